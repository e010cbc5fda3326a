import jsQR from 'jsqr';
import { encodeQr, type QrMatrix } from '../../miniprogram/src/utils/qr-code';

// Draws the matrix with a four-module quiet zone, as the qr-code component does, and reads it back.
function decode(matrix: QrMatrix): string | null {
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

describe('QR encoder', () => {
  it.each([
    ['SB1001X7K2', 21],
    ['member:7349287349287349287', 25],
    ['https://example.com/m/7349287349287349287?store=shanghai-01', 33],
    ['会员码 7349287349287349287', 29],
    ['x'.repeat(100), 41],
    ['y'.repeat(200), 57],
  ])('encodes %s into a %i-module symbol that a decoder reads back', (text, size) => {
    const matrix = encodeQr(text);
    expect(matrix).toHaveLength(size);
    expect(matrix.every((row) => row.length === size)).toBe(true);
    expect(decode(matrix)).toBe(text);
  });

  it('refuses text longer than a version 10 symbol holds', () => {
    expect(() => encodeQr('z'.repeat(300))).toThrow(RangeError);
  });
});
