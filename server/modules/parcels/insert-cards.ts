import { createRequire } from 'node:module';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';

/** A6 in PDF points (105 × 148 mm), and A4 (210 × 297 mm) which holds four A6 cards. */
const A6: [number, number] = [297.64, 419.53];
const A4: [number, number] = [595.28, 841.89];
const MM = 72 / 25.4;

// Noto Sans Hans (SIL OFL) from an npm package: Chinese glyphs on any machine, embedded as a subset.
const FONT_DIR = path.join(path.dirname(createRequire(__filename).resolve('@embedpdf/fonts-sc')), '..', 'fonts');
const FONT_PATH = path.join(FONT_DIR, 'NotoSansHans-Regular.otf');
const FONT_BOLD_PATH = path.join(FONT_DIR, 'NotoSansHans-Bold.otf');

export interface InsertCard {
  /** The QR content: the `url` WeChat returned with the ticket (rendered here, never fetched from WeChat). */
  qrContent: string;
  brand: string;
  /** The headline of the insert: the review reward (CARD_HEADLINE), never a follow. */
  headline: string;
  /** Body text: the offer, in the merchant's words. */
  offer: string;
}

/**
 * The texts a buyer reads on a card, and nothing else: the batch's name is the merchant's own and stays off it.
 * WeChat forbids making a follow the condition of a reward, so the default texts name the reward and how to claim it
 * and never ask for a follow; nor do they say anything of the review's rating.
 */
export const CARD_HEADLINE = '晒单评价有礼';

/** The default offer of a batch: the review reward (e.g. "5 元现金") and how to claim it. */
export const defaultOfferText = (reward: string) => `在淘宝如实评价并晒图，可领 ${reward}。扫码后发送淘宝订单号，按提示领取。`;

/** The texts printed on a card, top to bottom. */
export const cardTexts = (card: InsertCard): string[] => [card.brand, card.headline, card.offer];

export type CardLayout = 'a6' | 'a4';

/**
 * Printable parcel-insert cards as a PDF: one A6 card per page, or four A6 cards on each A4 sheet with cut marks.
 * `copies` cards in all (all cards of one batch carry the same code).
 */
export async function renderInsertCards(card: InsertCard, layout: CardLayout, copies = 1): Promise<Buffer> {
  const qr = await QRCode.toBuffer(card.qrContent, { errorCorrectionLevel: 'M', margin: 1, width: 600 });
  const doc = new PDFDocument({ size: layout === 'a6' ? A6 : A4, margin: 0, autoFirstPage: false, info: { Title: `${card.brand} insert card` } });
  doc.registerFont('regular', FONT_PATH);
  doc.registerFont('bold', FONT_BOLD_PATH);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const perPage = layout === 'a6' ? 1 : 4;
  for (let i = 0; i < copies; i++) {
    const slot = i % perPage;
    if (slot === 0) {
      doc.addPage();
      if (layout === 'a4') drawCutMarks(doc);
    }
    const x = layout === 'a6' ? 0 : (slot % 2) * A6[0];
    const y = layout === 'a6' ? 0 : Math.floor(slot / 2) * A6[1];
    drawCard(doc, card, qr, x, y);
  }
  doc.end();
  return done;
}

function drawCard(doc: PDFKit.PDFDocument, card: InsertCard, qr: Buffer, x: number, y: number): void {
  const [w] = A6;
  const pad = 10 * MM;
  const inner = w - 2 * pad;
  const [brand, headline, offer] = cardTexts(card);
  doc.font('bold').fontSize(18).fillColor('#111').text(brand!, x + pad, y + pad, { width: inner, align: 'center' });
  doc.font('bold').fontSize(13).fillColor('#c0392b').text(headline!, x + pad, y + pad + 30, { width: inner, align: 'center' });
  const qrSize = 52 * MM;
  doc.image(qr, x + (w - qrSize) / 2, y + pad + 60, { width: qrSize, height: qrSize });
  const below = y + pad + 60 + qrSize + 10;
  doc.font('regular').fontSize(10).fillColor('#333').text(offer!, x + pad, below, { width: inner, align: 'center', lineGap: 2 });
}

function drawCutMarks(doc: PDFKit.PDFDocument): void {
  const [w, h] = A6;
  doc.save().lineWidth(0.3).strokeColor('#bbb').dash(3, { space: 3 });
  doc.moveTo(w, 0).lineTo(w, 2 * h).stroke();
  doc.moveTo(0, h).lineTo(2 * w, h).stroke();
  doc.restore();
}
