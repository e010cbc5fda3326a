import { CARD_HEADLINE, defaultOfferText, renderInsertCards } from '../../server/modules/parcels/insert-cards';
import { pdfTexts } from '../helpers/pdf-text';
import { sceneFromEventKey } from '../../server/modules/parcels/parcels.service';
import { checkScreenshot, sniffImageType } from '../../server/modules/review-rewards/screenshot-store';
import { outBillNoOf } from '../../server/modules/review-rewards/review-rewards.service';

const card = {
  qrContent: 'http://weixin.qq.com/q/02test',
  brand: '小雪球旗舰店',
  headline: '晒单评价有礼',
  offer: '在淘宝如实评价并晒图，扫码提交截图，领取 5 元或积分。',
};

const pageSizes = (pdf: Buffer) => [...pdf.toString('latin1').matchAll(/\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/g)].map((m) => [Number(m[1]), Number(m[2])]);

describe('insert cards', () => {
  it('prints one A6 card per page', async () => {
    const pdf = await renderInsertCards(card, 'a6', 3);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const sizes = pageSizes(pdf);
    expect(sizes).toHaveLength(3);
    for (const [w, h] of sizes) {
      expect(w).toBeCloseTo(297.64, 1);
      expect(h).toBeCloseTo(419.53, 1);
    }
    // The Chinese font is embedded (as a subset), so the card prints the same on any machine.
    expect(pdf.toString('latin1')).toMatch(/\/FontFile3|\/FontFile2/);
  });

  it('prints the brand, the headline and the offer, and nothing else', async () => {
    expect(pdfTexts(await renderInsertCards(card, 'a6', 1)).join('')).toBe(`${card.brand}${card.headline}${card.offer}`);
  });

  it('default texts name the review reward and how to claim it, with no follow as its condition and no word on the rating', () => {
    const offer = defaultOfferText('5 元现金');
    expect(offer).toBe('在淘宝如实评价并晒图，可领 5 元现金。扫码后发送淘宝订单号，按提示领取。');
    for (const text of [CARD_HEADLINE, offer]) expect(text).not.toMatch(/关注|好评|五星|5 ?星/);
  });

  it('puts four cards on each A4 sheet', async () => {
    const sizes = pageSizes(await renderInsertCards(card, 'a4', 9));
    expect(sizes).toHaveLength(3);
    expect(sizes[0]![0]).toBeCloseTo(595.28, 1);
  });
});

describe('scenes from EventKey', () => {
  it('reads qrscene_ on subscribe and the bare scene on SCAN', () => {
    expect(sceneFromEventKey('qrscene_pb_abc', 'subscribe')).toBe('pb_abc');
    expect(sceneFromEventKey('pb_abc', 'SCAN')).toBe('pb_abc');
    expect(sceneFromEventKey('pb_abc', 'subscribe')).toBeNull();
    expect(sceneFromEventKey(undefined, 'subscribe')).toBeNull();
    expect(sceneFromEventKey(`qrscene_${'x'.repeat(65)}`, 'subscribe')).toBeNull();
  });
});

describe('review screenshots', () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const jpeg = Buffer.from('ffd8ffe000104a464946', 'hex');
  const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]);

  it('tells the type from the bytes, not the name', () => {
    expect(sniffImageType(png)).toBe('image/png');
    expect(sniffImageType(jpeg)).toBe('image/jpeg');
    expect(sniffImageType(webp)).toBe('image/webp');
    expect(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(sniffImageType(Buffer.from('%PDF-1.7'))).toBeNull();
  });

  it('refuses empty, oversized and non-image files with stable codes', () => {
    expect(() => checkScreenshot(Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'screenshot_missing' }));
    expect(() => checkScreenshot(Buffer.concat([png, Buffer.alloc(5 * 1024 * 1024)]))).toThrow(expect.objectContaining({ code: 'screenshot_too_large' }));
    expect(() => checkScreenshot(Buffer.from('GIF89a'))).toThrow(expect.objectContaining({ code: 'screenshot_not_image' }));
    expect(checkScreenshot(png)).toBe('image/png');
  });
});

describe('out_bill_no', () => {
  it('is derived from the claim and the attempt, 32 letters and digits at most', () => {
    const id = '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
    expect(outBillNoOf(id, 1)).toMatch(/^[A-Za-z0-9]{6,32}$/);
    expect(outBillNoOf(id, 1)).toHaveLength(32);
    expect(outBillNoOf(id, 1)).toBe(outBillNoOf(id, 1));
    expect(outBillNoOf(id, 2)).not.toBe(outBillNoOf(id, 1));
  });
});
