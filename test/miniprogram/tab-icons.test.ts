import fs from 'fs';
import path from 'path';
import zlib from 'zlib';
import { COLOURS, ICON_DIR, SIZE, tabIcons } from '../../scripts/tab-icons';

/** The tab bar's icons: drawn by scripts/tab-icons.ts, committed, and as WeChat takes them (local PNG, ≤ 40 KB). */
const src = path.resolve(__dirname, '../../miniprogram/src');
const app = JSON.parse(fs.readFileSync(path.join(src, 'app.json'), 'utf8')) as {
  tabBar: { color: string; selectedColor: string; list: { pagePath: string; text: string; iconPath?: string; selectedIconPath?: string }[] };
};

/** Width, height and RGBA pixels of a PNG as this project writes them (8-bit RGBA, rows unfiltered). */
function readPng(bytes: Buffer): { width: number; height: number; rgba: Buffer } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (at < bytes.length) {
    const len = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8, 13)]).toEqual([8, 6, 0, 0, 0]);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 4 + 1)]).toBe(0);
    raw.copy(rgba, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  }
  return { width, height, rgba };
}

const hex = (rgba: Buffer, i: number) => `#${rgba.subarray(i, i + 3).toString('hex')}`;

describe('tab bar icons', () => {
  it('every tab has both icons, committed exactly as the script draws them', () => {
    const drawn = tabIcons();
    for (const tab of app.tabBar.list) {
      for (const file of [tab.iconPath, tab.selectedIconPath]) {
        expect([tab.text, typeof file]).toEqual([tab.text, 'string']);
        const at = path.join(src, file!);
        expect(path.dirname(at)).toBe(ICON_DIR);
        const committed = fs.readFileSync(at);
        expect(committed.length).toBeLessThanOrEqual(40 * 1024);
        expect(committed.equals(drawn.get(path.basename(at))!)).toBe(true);
      }
    }
    // No icon file that no tab uses.
    const used = app.tabBar.list.flatMap((t) => [path.basename(t.iconPath!), path.basename(t.selectedIconPath!)]).sort();
    expect(fs.readdirSync(ICON_DIR).sort()).toEqual(used);
  });

  it('are 81 × 81, grey or the shop red like the tab text, with ink enough to see and each its own shape', () => {
    expect([app.tabBar.color, app.tabBar.selectedColor]).toEqual([COLOURS.normal, COLOURS.selected]);
    const shapes: string[] = [];
    for (const tab of app.tabBar.list) {
      for (const [file, colour] of [[tab.iconPath!, COLOURS.normal], [tab.selectedIconPath!, COLOURS.selected]] as const) {
        const { width, height, rgba } = readPng(fs.readFileSync(path.join(src, file)));
        expect([width, height]).toEqual([SIZE, SIZE]);
        let ink = 0;
        const colours = new Set<string>();
        let mask = '';
        for (let i = 0; i < rgba.length; i += 4) {
          if (rgba[i + 3]! > 0) colours.add(hex(rgba, i));
          if (rgba[i + 3]! >= 128) ink++;
          mask += rgba[i + 3]! >= 128 ? '1' : '0';
        }
        expect([file, [...colours]]).toEqual([file, [colour]]);
        const share = ink / (SIZE * SIZE);
        expect(share).toBeGreaterThan(0.1);
        expect(share).toBeLessThan(0.6);
        // Nothing touches the edge: WeChat shows the icon whole.
        for (let p = 0; p < SIZE; p++) for (const [x, y] of [[p, 0], [p, SIZE - 1], [0, p], [SIZE - 1, p]]) expect(rgba[(y! * SIZE + x!) * 4 + 3]).toBe(0);
        if (colour === COLOURS.normal) shapes.push(mask);
      }
    }
    expect(new Set(shapes).size).toBe(app.tabBar.list.length);
  });
});
