import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openCliDatabase, runCli } from './cli';
import { Db } from '../server/infra/db';
import { MemoryKv, createKv } from '../server/infra/kv';
import { JobQueue } from '../server/infra/queue';
import { createMemberServices, memberJobs } from '../server/modules/members/member-services';
import type { ImportProgress } from '../server/modules/taobao/taobao-import.service';

const USAGE = `Usage: npm run import:taobao -- --orders <订单报表.csv> [--items <宝贝报表.csv>] [--kind taobao|tmall] [--store <店铺名称>]

Imports seller-center exports (GBK or UTF-8) into the member ledger. Re-running with the same files changes nothing.`;

/** npm run import:taobao: imports an order report (and item report) with a progress bar, then prints a summary. */
runCli(async () => {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string' },
      items: { type: 'string' },
      kind: { type: 'string', default: 'taobao' },
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (!values.orders && !values.items)) {
    process.stdout.write(`${USAGE}\n`);
    if (!values.help) process.exit(2);
    return;
  }
  if (values.kind !== 'taobao' && values.kind !== 'tmall') throw new Error('--kind must be taobao or tmall');
  for (const f of [values.orders, values.items]) if (f && !fs.existsSync(f)) throw new Error(`No such file: ${f}`);

  const db = await openCliDatabase();
  const log = pino({ level: 'warn' });
  const url = (db.dataSource.options as { url: string }).url;
  const queue = new JobQueue(url, log, { workers: false, max: 1 });
  const kv = db.config.redisUrl ? await createKv(db.config.redisUrl) : new MemoryKv();
  try {
    // The CLI keeps the files it was given: only uploads are deleted after import.
    const services = createMemberServices(new Db(db.dataSource), kv, queue, { ...db.config, importKeepFiles: true });
    for (const job of memberJobs(queue, services, log)) queue.define(job);
    await queue.start();
    const id = await services.taobaoImport.create(
      {},
      {
        source: 'cli',
        channelKind: values.kind,
        storeName: values.store,
        ordersFile: values.orders && path.resolve(values.orders),
        itemsFile: values.items && path.resolve(values.items),
        fileNames: { ...(values.orders ? { orders: path.basename(values.orders) } : {}), ...(values.items ? { items: path.basename(values.items) } : {}) },
        createdBy: `cli:${process.env.USER ?? 'unknown'}`,
      },
    );
    const bar = progressBar();
    const s = await services.taobaoImport.run({}, id, bar.update).finally(bar.done);
    const lines = [
      `Import ${id} (${s.loader === 'copy' ? 'COPY' : 'batched INSERT, embedded database'})`,
      `  read       ${s.read}`,
      `  inserted   ${s.inserted}`,
      `  updated    ${s.updated}`,
      `  unchanged  ${s.unchanged}`,
      `  duplicates ${s.duplicates} (same order repeated in the file; the last row counts)`,
      `  rejected   ${s.rejected}`,
      `  items      ${s.items.read} read, ${s.items.attached} attached, ${s.items.rejected} rejected`,
      `  members    ${s.members} refreshed`,
      `  seconds    ${s.seconds}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (s.rejected + s.items.rejected > 0) {
      const rejects = await services.taobaoImport.rejects({}, id, 20, 0);
      process.stdout.write(`Rejected rows${s.rejected + s.items.rejected > 20 ? ' (first 20)' : ''}:\n`);
      for (const r of rejects) process.stdout.write(`  ${r.file} line ${r.line}: ${r.reason}\n`);
    }
  } finally {
    await queue.stop();
    await kv.close();
    await db.close();
  }
});

function progressBar(): { update: (p: ImportProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let last = -1;
  return {
    update(p) {
      const pct = p.bytesTotal ? Math.floor((p.bytesRead * 100) / p.bytesTotal) : 0;
      const key = pct * 10 + p.phase.length;
      if (key === last) return;
      last = key;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${p.phase.replace(/_/g, ' ')}`;
      if (tty) process.stderr.write(`\r${text}\x1b[K`);
      else if (pct % 25 === 0 || p.phase !== 'reading_orders') process.stderr.write(`${text}\n`);
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}
