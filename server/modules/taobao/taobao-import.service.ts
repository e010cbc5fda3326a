import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { systemCtx, type Ctx, type Db } from '../../infra/db';
import { AppError, conflict, invalid, notFound } from '../../infra/errors';
import type { MembersService } from '../members/members.service';
import { CsvFormatError, readCsv } from './csv-reader';
import { createStageSql, stageWriter, type StageColumn } from './stage-writer';
import { mapItemHeader, mapOrderHeader, RowError, toStagedItem, toStagedOrder } from './taobao-rows';
import { OrderLoad } from './taobao-merge';
import { MERGE_ITEMS_SQL, REJECT_ORPHAN_ITEMS_SQL } from './taobao-merge.sql';

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
  /** `publishing`: embedded only, the orders are being made visible in short transactions. */
  phase: 'queued' | 'reading_orders' | 'reading_items' | 'merging' | 'publishing' | 'refreshing_members' | 'done' | 'failed';
  bytesRead: number;
  bytesTotal: number;
}

export interface ImportOptions {
  phoneKey: string;
  /** Embedded database: no COPY over its socket, so batches of INSERTs load the rows. */
  embedded: boolean;
  /** Keep uploaded files after a successful import (default: deleted). */
  keepFiles: boolean;
  /** Orders per segment (default 10,000): one existence check and one COPY each, the next segment read meanwhile. */
  segmentRows?: number;
}

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
 * Imports the seller center's order and item reports in one transaction, streamed row by row: new orders are copied
 * straight into sales_order (COPY), rows of orders already there are staged and merged set-based at the end (upsert
 * by channel + order number). Re-importing changes nothing; a later export of an order moves it forward; rejected
 * rows are recorded with line and reason.
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
    const [row] = (await this.db.rows(ctx, `INSERT INTO taobao_import (status, source, channel_kind, store_name, orders_file, items_file, file_names, bytes_total, created_by)
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
    // The worker holds the import's lock as long as it runs: a start finding an import `running` with its lock free
    // knows that worker is gone (see recoverInterrupted).
    // Embedded, one process owns the database (and its connections share one session, where the lock tells no one
    // apart): no connection kept aside for it.
    if (this.opts.embedded) return this.runHeld(ctx, importId, onProgress);
    const done = await this.db.exclusively(workerLock(importId), () => this.runHeld(ctx, importId, onProgress));
    if (done === null) throw conflict('import_running', 'This import is being run by another process');
    return done;
  }

  /**
   * Imports left `running` by a worker that is gone (the process was killed or the machine stopped): nothing of them
   * was kept (the import is one transaction), so an upload whose files are still there is queued again, from the
   * start, and the others are failed with the reason. Returns the ids queued again; the caller sends their jobs.
   */
  async recoverInterrupted(ctx: Ctx): Promise<string[]> {
    const running = (await this.db.rows(ctx, "SELECT id, source, phase, orders_file, items_file FROM taobao_import WHERE status = 'running'")) as Array<{
      id: string;
      source: 'upload' | 'cli';
      phase: string;
      orders_file: string | null;
      items_file: string | null;
    }>;
    const requeued: string[] = [];
    for (const r of running) {
      await this.db.exclusively(workerLock(r.id), async () => {
        const files = [r.orders_file, r.items_file].filter((f): f is string => !!f);
        // Embedded, a stop while publishing left part of the orders visible: running it again completes it (rows
        // already in are passed over), so a command's import is queued again too.
        const again = r.source === 'upload' || r.phase === 'publishing';
        if (again && files.length > 0 && files.every((f) => fs.existsSync(f))) {
          const queued = await this.db.rows(ctx, `UPDATE taobao_import SET status = 'queued', phase = 'queued', bytes_read = 0, summary = NULL, finished_at = NULL,
                    error = 'Interrupted: the server stopped during this import and kept nothing of it; queued again' WHERE id = $1 AND status = 'running' RETURNING id`,
            [r.id],
          );
          if (queued.length > 0) requeued.push(r.id);
        } else {
          await this.db.rows(ctx, `UPDATE taobao_import SET status = 'failed', phase = 'failed', finished_at = now(),
                    error = $2 WHERE id = $1 AND status = 'running'`,
            [
              r.id,
              r.phase === 'publishing'
                ? 'Interrupted while its orders were being published, and its files are gone: import the same files again to complete it'
                : 'Interrupted: the process running this import stopped and kept nothing of it; import the files again',
            ],
          );
        }
      });
    }
    return requeued;
  }

  private async runHeld(ctx: Ctx, importId: string, onProgress?: (p: ImportProgress) => void): Promise<ImportSummary> {
    const [job] = (await this.db.rows(ctx, 'SELECT * FROM taobao_import WHERE id = $1', [importId])) as Array<{
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
    await this.db.rows(ctx, "UPDATE taobao_import SET status = 'running', phase = 'queued', bytes_read = 0, started_at = now(), finished_at = NULL, error = NULL WHERE id = $1", [importId]);
    await this.db.rows(ctx, 'DELETE FROM taobao_import_reject WHERE import_id = $1', [importId]);
    const bytesTotal = Number(job.bytes_total);
    let lastWrite = 0;
    // One write after the other, so the record never goes back to an earlier phase.
    let writes: Promise<unknown> = Promise.resolve();
    const progress = (p: ImportProgress, force = false): Promise<unknown> => {
      onProgress?.(p);
      const now = Date.now();
      if (now - lastWrite < 1000 && p.phase !== 'done' && !force) return writes;
      lastWrite = now;
      writes = writes.then(() =>
        this.db
          // Only while running: a write that arrives after the end must not paint a finished import as half-read.
          .rows(systemCtx, "UPDATE taobao_import SET phase = $2, bytes_read = $3 WHERE id = $1 AND status = 'running'", [importId, p.phase, p.bytesRead])
          .catch(() => undefined),
      );
      return writes;
    };
    try {
      const summary = await this.importFiles(importId, job, bytesTotal, progress);
      await this.db.rows(ctx, "UPDATE taobao_import SET status = 'succeeded', phase = 'done', bytes_read = bytes_total, summary = $2, finished_at = now() WHERE id = $1",
        [importId, summary],
      );
      if (job.source === 'upload' && !this.opts.keepFiles) this.deleteFiles(job);
      onProgress?.({ phase: 'done', bytesRead: bytesTotal, bytesTotal });
      return summary;
    } catch (err) {
      const permanent = err instanceof CsvFormatError || err instanceof RowError || err instanceof AppError;
      // Failed either way; a transient failure is rethrown and the queue's retry runs it again from the start.
      // The record shows the merchant what was wrong with the file; a database's or the server's own words stay in the log.
      const shown = permanent ? (err as Error).message.slice(0, 500) : 'Interrupted by a server or database error; retried from the start';
      await this.db.rows(ctx, "UPDATE taobao_import SET status = 'failed', phase = 'failed', error = $2, finished_at = now() WHERE id = $1", [importId, shown]);
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
    progress: (p: ImportProgress, force?: boolean) => Promise<unknown>,
  ): Promise<ImportSummary> {
    const started = Date.now();
    const suffix = randomBytes(6).toString('hex');
    const itemStage = `import_stage_items_${suffix}`;
    const runner = this.db.dataSource.createQueryRunner();
    const client = (await runner.connect()) as import('pg').PoolClient;
    const rejects: Reject[] = [];
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
      rejects.push(r);
      await flushRejects(false);
    };
    const embedded = this.opts.embedded;
    let ordersRead = 0;
    let orderRejects = 0;
    let itemsRead = 0;
    let itemRejectsParse = 0;
    let bytesBefore = 0;
    let orders = { inserted: 0, updated: 0, duplicates: 0, memberIds: [] as string[] };
    let items = { attached: 0, orphans: 0, members: [] as string[] };
    const defaultStore = job.store_name ?? (job.channel_kind === 'tmall' ? '天猫店铺' : '淘宝店铺');
    let load: OrderLoad | undefined;
    // PostgreSQL: one transaction from the first row to the last, so a failure anywhere leaves nothing behind.
    // Embedded: the database runs one transaction at a time for every connection, so one that long would hold up
    // every request for the whole import. There the report is staged in short statements (session tables nobody else
    // reads) and published at the end in short transactions (OrderLoad.publish); until then nothing of it is visible.
    const turn = embedded ? embeddedTurn() : undefined;
    if (turn) await turn.ready;
    else await client.query('BEGIN');
    try {
      if (!embedded) {
        // One import at a time: two overlapping imports would otherwise both insert the same new order.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['snowball:taobao-merge']);
        // The sorts and hashes over a big file's staged rows fit in memory instead of spilling to disk.
        await client.query("SET LOCAL work_mem = '256MB'");
      }
      if (job.orders_file) {
        load = new OrderLoad(client, {
          importId,
          channelKind: job.channel_kind,
          defaultStore,
          suffix,
          embedded,
          // Embedded, each segment's existence check is one statement holding the database: smaller ones.
          segmentRows: this.opts.segmentRows ?? (embedded ? 1_000 : 10_000),
          // Recorded before the first order is published: a stop from here on left a part of them in.
          onPublish: async () => {
            await progress({ phase: 'publishing', bytesRead: bytesBefore, bytesTotal }, true);
          },
        });
        await load.begin();
        let map: ReturnType<typeof mapOrderHeader> | undefined;
        for await (const batch of readCsv(job.orders_file, { onBytes: (b) => progress({ phase: 'reading_orders', bytesRead: b, bytesTotal }) })) for (const rec of batch) {
          if (!map) {
            if (rec.problem) throw new RowError(`the order report's header (line ${rec.line}): ${rec.problem}`);
            map = mapOrderHeader(rec.fields);
            await client.query('UPDATE taobao_import SET extra_columns = $2 WHERE id = $1', [importId, map.extraNames]);
            continue;
          }
          if (rec.fields.length === 1 && rec.fields[0]!.trim() === '') continue;
          ordersRead++;
          try {
            if (rec.problem) throw new RowError(rec.problem);
            const wait = load.add(toStagedOrder(rec.line, rec.fields, map, this.opts.phoneKey));
            if (wait) await wait;
          } catch (err) {
            if (!(err instanceof RowError)) throw err;
            orderRejects++;
            await reject({ file: 'orders', line: rec.line, reason: err.message, excerpt: excerpt(rec.fields) });
          }
        }
        if (!map) throw new RowError('the order report is empty');
        bytesBefore = fs.statSync(job.orders_file).size;
        progress({ phase: 'merging', bytesRead: bytesBefore, bytesTotal });
        orders = await load.finish();
      }
      if (job.items_file) {
        await client.query(createStageSql(itemStage, ITEM_STAGE, !embedded));
        const writer = stageWriter(client, itemStage, ITEM_STAGE, embedded);
        let map: ReturnType<typeof mapItemHeader> | undefined;
        try {
          for await (const batch of readCsv(job.items_file, { onBytes: (b) => progress({ phase: 'reading_items', bytesRead: bytesBefore + b, bytesTotal }) })) for (const rec of batch) {
            if (!map) {
              if (rec.problem) throw new RowError(`the item report's header (line ${rec.line}): ${rec.problem}`);
              map = mapItemHeader(rec.fields);
              continue;
            }
            if (rec.fields.length === 1 && rec.fields[0]!.trim() === '') continue;
            itemsRead++;
            try {
              if (rec.problem) throw new RowError(rec.problem);
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
        progress({ phase: 'merging', bytesRead: bytesTotal, bytesTotal });
        const { rows: merged } = await client.query<{ attached: string; members: string[] | null }>(MERGE_ITEMS_SQL(itemStage));
        const { rows: orphans } = await client.query<{ n: string }>(REJECT_ORPHAN_ITEMS_SQL(itemStage), [importId, Math.max(MAX_STORED_REJECTS - storedRejects - rejects.length, 0)]);
        items = { attached: Number(merged[0]!.attached), orphans: Number(orphans[0]!.n), members: merged[0]!.members ?? [] };
      }
      await flushRejects(true);
      if (!embedded) await client.query('COMMIT');
    } catch (err) {
      // The copies under way end first; then everything this import wrote is rolled back.
      await load?.settle();
      if (!embedded) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      if (embedded) {
        await load?.drop().catch(() => undefined);
        await client.query(`DROP TABLE IF EXISTS ${itemStage}`).catch(() => undefined);
      }
      turn?.done();
      await runner.release();
    }
    progress({ phase: 'refreshing_members', bytesRead: bytesTotal, bytesTotal });
    const memberIds = [...new Set([...orders.memberIds, ...items.members])];
    for (let k = 0; k < memberIds.length; k += 200) {
      await this.members.refresh({}, memberIds.slice(k, k + 200), 'orders imported');
    }
    return {
      read: ordersRead,
      inserted: orders.inserted,
      updated: orders.updated,
      unchanged: ordersRead - orderRejects - orders.duplicates - orders.inserted - orders.updated,
      duplicates: orders.duplicates,
      rejected: orderRejects,
      items: { read: itemsRead, attached: items.attached, rejected: itemRejectsParse + items.orphans },
      members: memberIds.length,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      loader: embedded ? 'insert-batches' : 'copy',
    };
  }

  async status(ctx: Ctx, importId: string) {
    if (!/^[0-9a-f-]{36}$/i.test(importId)) throw notFound('import_not_found', 'No import with that id');
    const [row] = (await this.db.rows(ctx, 'SELECT * FROM taobao_import WHERE id = $1', [importId])) as Array<{
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
    // A finished import reads as finished, whatever progress was written last.
    if (row.status === 'succeeded') row.phase = 'done';
    if (row.status === 'failed') row.phase = 'failed';
    const read = row.status === 'succeeded' ? total : Math.min(Number(row.bytes_read), total);
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
    const rows = (await this.db.rows(ctx, 'SELECT id FROM taobao_import ORDER BY created_at DESC LIMIT $1', [limit])) as Array<{ id: string }>;
    return Promise.all(rows.map((r) => this.status(ctx, r.id)));
  }

  async rejects(ctx: Ctx, importId: string, limit: number, offset: number) {
    await this.status(ctx, importId);
    const rows = (await this.db.rows(ctx, 'SELECT file, line, reason, excerpt FROM taobao_import_reject WHERE import_id = $1 ORDER BY file DESC, line LIMIT $2 OFFSET $3',
      [importId, limit, offset],
    )) as Array<{ file: string; line: number; reason: string; excerpt: string | null }>;
    return rows;
  }
}

let embeddedQueue: Promise<void> = Promise.resolve();

/**
 * Embedded imports take turns in the process (the database's advisory locks cannot tell its connections apart: they
 * share one session). `ready` resolves when it is this import's turn; `done` hands the turn on.
 */
function embeddedTurn(): { ready: Promise<void>; done: () => void } {
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  const ready = embeddedQueue;
  embeddedQueue = ready.then(() => mine);
  return { ready, done };
}

/** Held by the process running an import, for as long as it runs. */
function workerLock(importId: string): string {
  return `snowball:taobao-import:${importId}`;
}

/** The first cells of a rejected row, for the console (masked fields stay as Taobao masked them). */
function excerpt(fields: string[]): string {
  return fields.slice(0, 4).join(',').slice(0, 120).replace(/\u0000/g, '\ufffd');
}
