import { encodeQr } from '../../utils/qr-code';

interface QrRow {
  key: number;
  cells: { key: number; dark: boolean }[];
}

// Draws a QR symbol with views: no canvas, so it renders the same in every base library and in tests.
Component({
  properties: {
    text: { type: String, value: '' },
    // Side of the symbol in rpx, quiet zone included.
    size: { type: Number, value: 400 },
  },
  data: { rows: [] as QrRow[], moduleSize: 0, padding: 0 },
  observers: {
    'text, size'(text: string, size: number) {
      if (!text) {
        this.setData({ rows: [] });
        return;
      }
      const matrix = encodeQr(text);
      // Four light modules around the symbol, as scanners expect.
      const moduleSize = Math.floor(size / (matrix.length + 8));
      this.setData({
        moduleSize,
        padding: moduleSize * 4,
        rows: matrix.map((row, y) => ({ key: y, cells: row.map((dark, x) => ({ key: x, dark })) })),
      });
    },
  },
});
