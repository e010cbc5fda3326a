import { encodeQr } from '../../miniprogram/src/utils/qr-code';
import { decodeMatrix as decode } from './helpers/qr-decode';

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
