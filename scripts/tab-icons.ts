import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/**
 * The tab bar's icons, drawn here as shapes and written as PNG files (81 × 81, as WeChat recommends; a tab icon must
 * be a local image of at most 40 KB): one grey for a tab that is not selected, one in the shop's red for the selected.
 *
 *   npm run tab-icons            writes miniprogram/src/assets/tab/*.png
 *   npm run tab-icons -- --check exits 1 when a committed icon is not what this script draws
 */
export const ICON_DIR = path.join(__dirname, '..', 'miniprogram', 'src', 'assets', 'tab');
export const SIZE = 81;
export const COLOURS = { normal: '#888888', selected: '#e4393c' } as const;

/** Is the point (in a 0–100 square) on the icon's ink? */
type Shape = (x: number, y: number) => boolean;

const segment = (ax: number, ay: number, bx: number, by: number, width: number): Shape => (x, y) => {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy)) <= width / 2;
};
const polyline = (points: Array<[number, number]>, width: number): Shape => {
  const parts = points.slice(1).map((p, i) => segment(points[i]![0], points[i]![1], p[0], p[1], width));
  return (x, y) => parts.some((s) => s(x, y));
};
const disc = (cx: number, cy: number, r: number): Shape => (x, y) => Math.hypot(x - cx, y - cy) <= r;
/** The outline of a rounded rectangle, `width` thick, centred on its edge. */
const roundRect = (x0: number, y0: number, x1: number, y1: number, r: number, width: number): Shape => (x, y) => {
  const qx = Math.abs(x - (x0 + x1) / 2) - ((x1 - x0) / 2 - r);
  const qy = Math.abs(y - (y0 + y1) / 2) - ((y1 - y0) / 2 - r);
  const d = Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
  return Math.abs(d) <= width / 2;
};
/** An arc of a circle, `width` thick, from angle a0 to a1 (radians, 0 = right, y grows downwards). */
const arc = (cx: number, cy: number, r: number, a0: number, a1: number, width: number): Shape => (x, y) => {
  const a = Math.atan2(y - cy, x - cx);
  const within = a0 <= a1 ? a >= a0 && a <= a1 : a >= a0 || a <= a1;
  return within && Math.abs(Math.hypot(x - cx, y - cy) - r) <= width / 2;
};
const union = (...shapes: Shape[]): Shape => (x, y) => shapes.some((s) => s(x, y));

const W = 7;
export const ICONS: Record<string, Shape> = {
  // 首页: a house with a door.
  home: union(polyline([[12, 48], [50, 14], [88, 48]], W), polyline([[22, 40], [22, 86], [78, 86], [78, 40]], W), polyline([[42, 86], [42, 62], [58, 62], [58, 86]], W)),
  // 签到: a calendar page with a tick.
  'check-in': union(roundRect(14, 22, 86, 88, 10, W), segment(32, 12, 32, 30, W), segment(68, 12, 68, 30, W), polyline([[33, 57], [46, 70], [68, 46]], W)),
  // 商城: a shopping bag with its handle.
  store: union(roundRect(16, 40, 84, 88, 8, W), arc(50, 34, 15, -Math.PI, 0, W), segment(35, 34, 35, 46, W), segment(65, 34, 65, 46, W)),
  // 我的: a person, head and shoulders.
  mine: union(disc(50, 32, 17), (x, y) => y >= 58 && y <= 88 && Math.hypot((x - 50) / 34, (y - 88) / 30) <= 1),
};

/** RGBA pixels: each pixel's ink coverage by 4 × 4 samples, in the given colour. */
export function draw(shape: Shape, colour: string): Buffer {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  const out = Buffer.alloc(SIZE * SIZE * 4);
  const n = 4;
  for (let py = 0; py < SIZE; py++) {
    for (let px = 0; px < SIZE; px++) {
      let hits = 0;
      for (let sy = 0; sy < n; sy++) for (let sx = 0; sx < n; sx++) if (shape(((px + (sx + 0.5) / n) * 100) / SIZE, ((py + (sy + 0.5) / n) * 100) / SIZE)) hits++;
      const o = (py * SIZE + px) * 4;
      out[o] = r!;
      out[o + 1] = g!;
      out[o + 2] = b!;
      out[o + 3] = Math.round((hits / (n * n)) * 255);
    }
  }
  return out;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG of 8-bit RGBA pixels, every row unfiltered. */
export function png(rgba: Buffer, width = SIZE, height = SIZE): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Every icon file: <name>.png grey, <name>-active.png red. */
export function tabIcons(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const [name, shape] of Object.entries(ICONS)) {
    files.set(`${name}.png`, png(draw(shape, COLOURS.normal)));
    files.set(`${name}-active.png`, png(draw(shape, COLOURS.selected)));
  }
  return files;
}

// Run as a command (npm run tab-icons), not when a test imports the drawing.
if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [file, bytes] of tabIcons()) {
    const at = path.join(ICON_DIR, file);
    if (check) {
      if (!fs.existsSync(at) || !fs.readFileSync(at).equals(bytes)) stale.push(file);
    } else {
      fs.mkdirSync(ICON_DIR, { recursive: true });
      fs.writeFileSync(at, bytes);
    }
  }
  if (stale.length > 0) {
    process.stderr.write(`tab icons not as drawn: ${stale.join(', ')}. Run npm run tab-icons and commit them.\n`);
    process.exit(1);
  }
  process.stdout.write(check ? 'tab icons are up to date\n' : `wrote ${tabIcons().size} icons to ${path.relative(process.cwd(), ICON_DIR)}\n`);
}
