import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ParcelBatch } from '../server/modules/parcels/parcels.entity';
import { CARD_HEADLINE, renderInsertCards, type CardLayout } from '../server/modules/parcels/insert-cards';
import { openCliDatabase, runCli } from './cli';

/** npm run cards -- --batch <id> [--layout a6|a4] [--copies N] [--out file.pdf]: printable insert cards. */
runCli(async () => {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string' },
      layout: { type: 'string', default: 'a4' },
      copies: { type: 'string', default: '4' },
      out: { type: 'string' },
    },
  });
  if (!values.batch) throw new Error('Give --batch <id> (GET /api/admin/parcel-batches lists them)');
  const layout = values.layout as CardLayout;
  if (layout !== 'a6' && layout !== 'a4') throw new Error('--layout must be a6 or a4');
  const copies = Number(values.copies);
  if (!Number.isInteger(copies) || copies < 1 || copies > 10_000) throw new Error('--copies must be a whole number from 1 to 10000');
  const db = await openCliDatabase();
  try {
    const batch = await db.dataSource.getRepository(ParcelBatch).findOneBy({ id: values.batch });
    if (!batch) throw new Error(`No parcel batch ${values.batch}`);
    if (!batch.qrUrl) throw new Error('This batch has no QR code yet');
    const pdf = await renderInsertCards(
      { qrContent: batch.qrUrl, brand: db.config.brandName, headline: CARD_HEADLINE, offer: batch.insertText },
      layout,
      copies,
    );
    const out = values.out ?? `insert-cards-${batch.id.slice(0, 8)}-${layout}.pdf`;
    fs.writeFileSync(out, pdf);
    process.stdout.write(`Wrote ${copies} cards (${layout.toUpperCase()}) for batch “${batch.name}” to ${out}\n`);
  } finally {
    await db.close();
  }
});
