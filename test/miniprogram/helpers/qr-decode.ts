import jsQR from 'jsqr';

// Draws a module matrix with a four-module quiet zone and reads it with an independent decoder.
export function decodeMatrix(matrix: boolean[][]): string | null {
  const scale = 4;
  const quiet = 4;
  const side = (matrix.length + quiet * 2) * scale;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  matrix.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const offset = (((y + quiet) * scale + dy) * side + (x + quiet) * scale + dx) * 4;
          pixels[offset] = pixels[offset + 1] = pixels[offset + 2] = 0;
        }
      }
    }),
  );
  return jsQR(pixels, side, side)?.data ?? null;
}
