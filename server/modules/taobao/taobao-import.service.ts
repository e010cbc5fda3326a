import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Ctx, Db } from '../../infra/db';
import { AppError, invalid, notFound } from '../../infra/errors';
import type { MembersService } from '../members/members.service';
import { CsvFormatError, readCsv } from './csv-reader';
import { createStageSql, stageWriter, type StageColumn, type StageWriter } from './stage-writer';
import { mapItemHeader, mapOrderHeader, RowError, toStagedItem, toStagedOrder } from './taobao-rows';
import { ImportMerge } from './taobao-merge';

export type ChannelKind = 'taobao' | 'tmall';

export interface ImportSummary {
  /** Data rows read from the order report (header and blank lines excluded). */
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Rows repeating an order already earlier in the same file (the last one wins). */
  duplicates: number;
  rejected: number;
  items: { read: number; attached: number; rejected: number };
  /** Members whose orders changed (their tier and points were recomputed). */
  members: number;
  seconds: number;
  loader: 'copy' | 'insert-batches';
}

export interface ImportProgress {
  phase: 'queued' | 'reading_orders' | 'reading_items' | 'merging' | 'refreshing_members' | 'done' | 'failed';
  bytesRead: number;
  bytesTotal: number;
}

export interface ImportOptions {
  phoneKey: string;
  /** Embedded database: no COPY over its socket, so batches of INSERTs load the staging table. */
  embedded: boolean;
  /** Keep uploaded files after a successful import (default: deleted). */
  keepFiles: boolean;
  /** Order rows per staged segment (default 50,000); the merge inserts one segment's new orders while the next is read. */
  segmentRows?: number;
}

const ORDER_STAGE: StageColumn[] = [
  { name: 'line', type: 'int' },
  { name: 'order_no', type: 'text' },
  { name: 'store_name', type: 'text' },
  { name: 'buyer_nick', type: 'text' },
  { name: 'buyer_key', type: 'text' },
  { name: 'state', type: 'text' },
  { name: 'status_text', type: 'text' },
  { name: 'total_fen', type: 'bigint' },
  { name: 'paid_fen', type: 'bigint' },
  { name: 'postage_fen', type: 'bigint' },
  { name: 'refund_fen', type: 'bigint' },
  { name: 'ordered_at', type: 'timestamptz' },
  { name: 'paid_at', type: 'timestamptz' },
  { name: 'item_title', type: 'text' },
  { name: 'item_count', type: 'int' },
  { name: 'close_reason', type: 'text' },
  { name: 'buyer_message', type: 'text' },
  { name: 'receiver_name', type: 'text' },
  { name: 'receiver_address', type: 'text' },
  { name: 'receiver_phone', type: 'text' },
  { name: 'phone_last4', type: 'text' },
  { name: 'phone_hash', type: 'text' },
  { name: 'extra', type: 'jsonb' },
];

const ITEM_STAGE: StageColumn[] = [
  { name: 'line', type: 'int' },
  { name: 'order_no', type: 'text' },
  { name: 'title', type: 'text' },
  { name: 'price_fen', type: 'bigint' },
  { name: 'quantity', type: 'int' },
  { name: 'sku', type: 'text' },
  { name: 'props', type: 'text' },
  { name: 'extra', type: 'jsonb' },
];

/** Rejected rows kept per import for the console; the summary counts all of them. */
const MAX_STORED_REJECTS = 10_000;

interface Reject {
  file: 'orders' | 'items';
  line: number;
  reason: string;
  excerpt: string;
}

/**
 * Imports the seller center's order and item reports: streamed row by row into an unlogged staging table (COPY),
 * then merged in one set-based transaction (upsert by channel + order number). Re-importing changes nothing;
 * a later export of an order moves it forward; rejected rows are recorded with line and reason.
 */
export class TaobaoImportService {
  constructor(
    private readonly db: Db,
    private readonly members: MembersService,
    private readonly opts: ImportOptions,
  ) {}

  /** Records an import to run (upload API: then queued; CLI: run at once). */
  async create(
    ctx: Ctx,
    input: { source: 'upload' | 'cli'; channelKind: ChannelKind; storeName?: string; ordersFile?: string; itemsFile?: string; fileNames?: Record<string, string>; createdBy?: string },
  ): Promise<string> {
    if (!input.ordersFile && !input.itemsFile) throw invalid('no_files', 'Give an order report, an item report, or both');
    const total = [input.ordersFile, input.itemsFile].reduce((n, f) => n + (f ? fs.statSync(f).size : 0), 0);
    const [row] = (await this.db.em(ctx).query(
      `INSERT INTO taobao_import (status, source, channel_kind, store_name, orders_file, items_file, file_names, bytes_total, created_by)
       VALUES ('queued', $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [input.source, input.channelKind, input.storeName ?? null, input.ordersFile ?? null, input.itemsFile ?? null, input.fileNames ?? {}, total, input.createdBy ?? null],
    )) as Array<{ id: string }>;
    return row!.id;
  }

  /**
   * Runs a recorded import to the end. Bad files (no 订单编号 column, UTF-16, …) fail the import for good;
   * database trouble is rethrown so the queue retries (the import is idempotent).
   */
  async run(ctx: Ctx, importId: string, onProgress?: (p: ImportProgress) => void): Promise<ImportSummary> {
    const [job] = (await this.db.em(ctx).query('SELECT * FROM taobao_import WHERE id = $1', [importId])) as Array<{
      status: string;
      source: 'upload' | 'cli';
      channel_kind: ChannelKind;
      store_name: string | null;
      orders_file: string | null;
      items_file: string | null;
      bytes_total: string;
      summary: ImportSummary | null;
    }>;
    if (!job) throw notFound('import_not_found', 'No import with that id');
    if (job.status === 'succeeded' && job.summary) return job.summary;
    await this.db.em(ctx).query("UPDATE taobao_import SET status = 'running', started_at = now(), error = NULL WHERE id = $1", [importId]);
    await this.db.em(ctx).query('DELETE FROM taobao_import_reject WHERE import_id = $1', [importId]);
    const bytesTotal = Number(job.bytes_total);
    let lastWrite = 0;
    const progress = (p: ImportProgress) => {
      onProgress?.(p);
      const now = Date.now();
      if (now - lastWrite < 1000 && p.phase !== 'done') return;
      lastWrite = now;
      void this.db.dataSource
        .query('UPDATE taobao_import SET phase = $2, bytes_read = $3 WHERE id = $1', [importId, p.phase, p.bytesRead])
        .catch(() => undefined);
    };
    try {
      const summary = await this.importFiles(importId, job, bytesTotal, progress);
      await this.db.em(ctx).query(
        "UPDATE taobao_import SET status = 'succeeded', phase = 'done', bytes_read = bytes_total, summary = $2, finished_at = now() WHERE id = $1",
        [importId, summary],
      );
      if (job.source === 'upload' && !this.opts.keepFiles) this.deleteFiles(job);
      onProgress?.({ phase: 'done', bytesRead: bytesTotal, bytesTotal });
      return summary;
    } catch (err) {
      const permanent = err instanceof CsvFormatError || err instanceof RowError || err instanceof AppError;
      // Failed either way; a transient failure is rethrown and the queue's retry runs it again from the start.
      await this.db.em(ctx).query("UPDATE taobao_import SET status = 'failed', phase = 'failed', error = $2, finished_at = now() WHERE id = $1", [
        importId,
        (err as Error).message.slice(0, 500),
      ]);
      if (permanent) {
        if (job.source === 'upload' && !this.opts.keepFiles) this.deleteFiles(job);
        throw invalid('import_file_invalid', (err as Error).message);
      }
      throw err;
    }
  }

  /** Uploaded files are personal data: deleted once imported (the CLI leaves the merchant's own files alone). */
  private deleteFiles(job: { orders_file: string | null; items_file: string | null }): void {
    for (const f of [job.orders_file, job.items_file]) {
      if (!f) continue;
      fs.rmSync(f, { force: true });
      try {
        fs.rmdirSync(path.dirname(f)); // the upload's own folder, once empty
      } catch {
        // not empty yet (the other report) or already gone
      }
    }
  }

  private async importFiles(
    importId: string,
    job: { channel_kind: ChannelKind; store_name: string | null; orders_file: string | null; items_file: string | null },
    bytesTotal: number,
    progress: (p: ImportProgress) => void,
  ): Promise<ImportSummary> {
    const started = Date.now();
    const suffix = randomBytes(6).toString('hex');
    const orderStage = `import_stage_orders_${suffix}`;
    const itemStage = `import_stage_items_${suffix}`;
    const runner = this.db.dataSource.createQueryRunner();
    const client = (await runner.connect()) as import('pg').PoolClient;
    const rejects: Reject[] = [];
    let rejectedTotal = 0;
    let storedRejects = 0;
    const flushRejects = async (force: boolean) => {
      if (rejects.length === 0 || (!force && rejects.length < 1000)) return;
      const batch = rejects.splice(0, rejects.length).slice(0, Math.max(MAX_STORED_REJECTS - storedRejects, 0));
      storedRejects += batch.length;
      if (batch.length === 0) return;
      await client.query(
        `INSERT INTO taobao_import_reject (import_id, file, line, reason, excerpt)
         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[], $5::text[])`,
        [importId, batch.map((r) => r.file), batch.map((r) => r.line), batch.map((r) => r.reason), batch.map((r) => r.excerpt)],
      );
    };
    const reject = async (r: Reject) => {
      rejectedTotal++;
      rejects.push(r);
      await flushRejects(false);
    };
    let loader: StageWriter['mode'] = this.opts.embedded ? 'insert-batches' : 'copy';
    let ordersRead = 0;
    let orderRejects = 0;
    let itemsRead = 0;
    let itemRejectsParse = 0;
    let bytesBefore = 0;
    const embedded = this.opts.embedded;
    const segmentRows = this.opts.segmentRows ?? 50_000;
    const defaultStore = job.store_name ?? (job.channel_kind === 'tmall' ? '天猫店铺' : '淘宝店铺');
    const mergeInput = {
      importId,
      channelKind: job.channel_kind,
      defaultStore,
      orderStage,
      itemStage,
      suffix,
      maxStoredRejects: MAX_STORED_REJECTS,
    };
    // On a server the merge runs beside the reading, on its own connection. The embedded database serves every
    // connection on one session, so there the merge starts once both files are staged.
    let merge: ImportMerge | undefined;
    const segments: string[] = [];
    const addSegment = (table: string) => (merge ? merge.addSegment(table) : segments.push(table));
    try {
      await client.query(createStageSql(orderStage, ORDER_STAGE));
      await client.query(createStageSql(itemStage, ITEM_STAGE));
      if (!embedded) merge = new ImportMerge(this.db, mergeInput);
      if (job.orders_file) {
        let segment: { table: string; writer: StageWriter; rows: number } | undefined;
        let segmentCount = 0;
        const openSegment = async () => {
          const table = `${orderStage}_${segmentCount++}`;
          await client.query(`CREATE UNLOGGED TABLE ${table} () INHERITS (${orderStage})`);
          segment = { table, writer: stageWriter(client, table, ORDER_STAGE, embedded), rows: 0 };
          loader = segment.writer.mode;
        };
        const closeSegment = async () => {
          if (!segment) return;
          const { table, writer, rows } = segment;
          segment = undefined;
          await writer.finish();
          if (rows > 0) addSegment(table);
        };
        let map: ReturnType<typeof mapOrderHeader> | undefined;
        try {
          await openSegment();
          for await (const batch of readCsv(job.orders_file, { onBytes: (b) => progress({ phase: 'reading_orders', bytesRead: b, bytesTotal }) })) for (const rec of batch) {
            if (!map) {
              map = mapOrderHeader(rec.fields);
              continue;
            }
            if (rec.fields.length === 1 && rec.fields[0]!.trim() === '') continue;
            ordersRead++;
            try {
              const o = toStagedOrder(rec.line, rec.fields, map, this.opts.phoneKey);
              const wait = segment!.writer.write([
                o.line, o.orderNo, o.storeName, o.buyerNick, o.buyerKey, o.state, o.statusText, o.totalFen, o.paidFen, o.postageFen,
                o.refundFen, o.orderedAt, o.paidAt, o.itemTitle, o.itemCount, o.closeReason, o.buyerMessage, o.receiverName,
                o.receiverAddress, o.receiverPhone, o.phoneLast4, o.phoneHash, o.extra,
              ]);
              if (wait) await wait;
              if (++segment!.rows >= segmentRows) {
                await closeSegment();
                await openSegment();
              }
            } catch (err) {
              if (!(err instanceof RowError)) throw err;
              orderRejects++;
              await reject({ file: 'orders', line: rec.line, reason: err.message, excerpt: excerpt(rec.fields) });
            }
          }
          await closeSegment();
        } finally {
          // Failed part-way: end the COPY, and hand nothing more to the merge (it is rolled back).
          await segment?.writer.finish().catch(() => undefined);
        }
        if (!map) throw new RowError('the order report is empty');
        bytesBefore = fs.statSync(job.orders_file).size;
      }
      merge?.ordersDone();
      if (job.items_file) {
        const writer = stageWriter(client, itemStage, ITEM_STAGE, embedded);
        let map: ReturnType<typeof mapItemHeader> | undefined;
        try {
          for await (const batch of readCsv(job.items_file, { onBytes: (b) => progress({ phase: 'reading_items', bytesRead: bytesBefore + b, bytesTotal }) })) for (const rec of batch) {
            if (!map) {
              map = mapItemHeader(rec.fields);
              continue;
            }
            if (rec.fields.length === 1 && rec.fields[0]!.trim() === '') continue;
            itemsRead++;
            try {
              const it = toStagedItem(rec.line, rec.fields, map);
              const wait = writer.write([it.line, it.orderNo, it.title, it.priceFen, it.quantity, it.sku, it.props, it.extra]);
              if (wait) await wait;
            } catch (err) {
              if (!(err instanceof RowError)) throw err;
              itemRejectsParse++;
              await reject({ file: 'items', line: rec.line, reason: err.message, excerpt: excerpt(rec.fields) });
            }
          }
        } finally {
          await writer.finish();
        }
        if (!map) throw new RowError('the item report is empty');
      }
      await flushRejects(true);
      progress({ phase: 'merging', bytesRead: bytesTotal, bytesTotal });
      if (!merge) {
        merge = new ImportMerge(this.db, mergeInput);
        segments.forEach((t) => merge!.addSegment(t));
        merge.ordersDone();
      }
      merge.itemsDone();
      const merged = await merge.result;
      progress({ phase: 'refreshing_members', bytesRead: bytesTotal, bytesTotal });
      for (let k = 0; k < merged.memberIds.length; k += 200) {
        await this.members.refresh({}, merged.memberIds.slice(k, k + 200), 'orders imported');
      }
      return {
        read: ordersRead,
        inserted: merged.inserted,
        updated: merged.updated,
        unchanged: ordersRead - orderRejects - merged.duplicates - merged.inserted - merged.updated,
        duplicates: merged.duplicates,
        rejected: orderRejects,
        items: { read: itemsRead, attached: merged.itemsAttached, rejected: itemRejectsParse + merged.orphanItems },
        members: merged.memberIds.length,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        loader,
      };
    } catch (err) {
      // Whichever side failed first, the merge transaction rolls back before the stage tables go.
      if (merge) {
        merge.abort(err as Error);
        await merge.result.catch(() => undefined);
      }
      throw err;
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${orderStage} CASCADE`).catch(() => undefined);
      await client.query(`DROP TABLE IF EXISTS ${itemStage}`).catch(() => undefined);
      await runner.release();
      void rejectedTotal;
    }
  }

  async status(ctx: Ctx, importId: string) {
    if (!/^[0-9a-f-]{36}$/i.test(importId)) throw notFound('import_not_found', 'No import with that id');
    const [row] = (await this.db.em(ctx).query('SELECT * FROM taobao_import WHERE id = $1', [importId])) as Array<{
      id: string;
      status: string;
      phase: string;
      source: string;
      channel_kind: string;
      store_name: string | null;
      file_names: Record<string, string>;
      bytes_total: string;
      bytes_read: string;
      summary: ImportSummary | null;
      error: string | null;
      created_by: string | null;
      created_at: Date;
      started_at: Date | null;
      finished_at: Date | null;
    }>;
    if (!row) throw notFound('import_not_found', 'No import with that id');
    const total = Number(row.bytes_total);
    const read = Math.min(Number(row.bytes_read), total);
    return {
      id: row.id,
      status: row.status,
      phase: row.phase,
      source: row.source,
      channelKind: row.channel_kind,
      storeName: row.store_name,
      files: row.file_names,
      progress: { bytesRead: read, bytesTotal: total, percent: total ? Math.floor((read * 100) / total) : 0 },
      summary: row.summary,
      error: row.error,
      createdBy: row.created_by,
      createdAt: new Date(row.created_at).toISOString(),
      startedAt: row.started_at ? new Date(row.started_at).toISOString() : null,
      finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
    };
  }

  async recent(ctx: Ctx, limit: number) {
    const rows = (await this.db.em(ctx).query('SELECT id FROM taobao_import ORDER BY created_at DESC LIMIT $1', [limit])) as Array<{ id: string }>;
    return Promise.all(rows.map((r) => this.status(ctx, r.id)));
  }

  async rejects(ctx: Ctx, importId: string, limit: number, offset: number) {
    await this.status(ctx, importId);
    const rows = (await this.db.em(ctx).query(
      'SELECT file, line, reason, excerpt FROM taobao_import_reject WHERE import_id = $1 ORDER BY file DESC, line LIMIT $2 OFFSET $3',
      [importId, limit, offset],
    )) as Array<{ file: string; line: number; reason: string; excerpt: string | null }>;
    return rows;
  }
}

/** The first cells of a rejected row, for the console (masked fields stay as Taobao masked them). */
function excerpt(fields: string[]): string {
  return fields.slice(0, 4).join(',').slice(0, 120);
}
