import type { Db } from '../../infra/db';
import {
  FIX_REPEATED_NEW_ORDERS_SQL,
  INSERT_NEW_ORDERS_SQL,
  MERGE_ITEMS_SQL,
  REJECT_ORPHAN_ITEMS_SQL,
  STAGE_DUPLICATES_SQL,
  UPDATE_ORDERS_SQL,
} from './taobao-merge.sql';

export interface MergeInput {
  importId: string;
  channelKind: 'taobao' | 'tmall';
  defaultStore: string;
  /** Parent of the order segments (each segment a child table, so this one reads them all). */
  orderStage: string;
  itemStage: string;
  /** Unique per import, for the transaction's own temporary table. */
  suffix: string;
  maxStoredRejects: number;
}

export interface MergeResult {
  inserted: number;
  updated: number;
  duplicates: number;
  itemsAttached: number;
  orphanItems: number;
  memberIds: string[];
}

type Rows = Array<{ n: string; members: string[] | null }>;

/**
 * The import's one merge transaction, fed while the files are still being read: each staged segment of the order
 * report has its new orders inserted at once (the database works while the next segment is parsed); once the whole
 * report is staged, repeated orders get their last row and existing orders are updated; then the item report.
 * Nothing is visible to others until it commits, and a failure anywhere rolls all of it back.
 */
export class ImportMerge {
  readonly result: Promise<MergeResult>;
  /** Set when the transaction failed: the reader stops instead of staging the rest for nothing. */
  failure: Error | undefined;
  private readonly segments: string[] = [];
  private ordersStaged = false;
  private itemsStaged = false;
  private aborted: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly input: MergeInput,
  ) {
    this.result = this.db.transaction({}, (tx) => this.run(this.db.em(tx)));
    this.result.catch((err: Error) => {
      this.failure = err;
    });
  }

  addSegment(table: string): void {
    if (this.failure) throw this.failure;
    this.segments.push(table);
    this.signal();
  }

  ordersDone(): void {
    this.ordersStaged = true;
    this.signal();
  }

  itemsDone(): void {
    this.itemsStaged = true;
    this.signal();
  }

  /** The reader failed: roll back whatever was merged so far. */
  abort(err: Error): void {
    this.aborted = err;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves when the reader has moved on (a segment, the end of a report, or an abort). */
  private async until(ready: () => boolean): Promise<void> {
    for (;;) {
      if (this.aborted) throw this.aborted;
      if (ready()) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private async run(em: { query(sql: string, params?: unknown[]): Promise<unknown> }): Promise<MergeResult> {
    const { importId, channelKind, defaultStore, orderStage, itemStage, suffix } = this.input;
    const params = [channelKind, defaultStore, importId];
    // One merge at a time: two overlapping imports would otherwise both insert the same new order.
    await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['snowball:taobao-merge']);
    // The dedupe aggregate and the hashes over a big file fit in memory instead of spilling to disk.
    await em.query("SET LOCAL work_mem = '256MB'");
    // Staged lines whose order was already there when their segment was merged: the candidates for an update.
    const found = `import_found_${suffix}`;
    await em.query(`CREATE TEMP TABLE ${found} (line int) ON COMMIT DROP`);
    let inserted = 0;
    const members = new Set<string>();
    const add = (ids: string[] | null | undefined) => ids?.forEach((id) => members.add(id));
    for (;;) {
      await this.until(() => this.segments.length > 0 || this.ordersStaged);
      const segment = this.segments.shift();
      if (segment === undefined) break;
      await em.query(
        `INSERT INTO sales_channel (kind, name) SELECT DISTINCT $1, coalesce(nullif(store_name, ''), $2) FROM ${segment}
         ON CONFLICT (kind, name) DO NOTHING`,
        [channelKind, defaultStore],
      );
      const [ins] = (await em.query(INSERT_NEW_ORDERS_SQL(segment, found), params)) as Rows;
      inserted += Number(ins!.n);
      add(ins!.members);
    }

    // The whole order report is staged: orders repeated across segments, then the orders that were already there.
    const dup = `import_dup_${suffix}`;
    await em.query(STAGE_DUPLICATES_SQL(orderStage, dup));
    await em.query(`ANALYZE ${dup}`);
    const [repeats] = (await em.query(`SELECT coalesce(sum(repeats), 0) AS n FROM ${dup}`)) as Array<{ n: string }>;
    const duplicates = Number(repeats!.n);
    if (duplicates > 0) {
      const [fix] = (await em.query(FIX_REPEATED_NEW_ORDERS_SQL(orderStage, dup), params)) as Rows;
      add(fix!.members);
    }
    let updated = 0;
    const [candidates] = (await em.query(`SELECT count(*) AS n FROM ${found}`)) as Array<{ n: string }>;
    if (Number(candidates!.n) > 0) {
      await em.query(`ANALYZE ${found}`);
      const [upd] = (await em.query(UPDATE_ORDERS_SQL(orderStage, dup, found), params)) as Rows;
      updated = Number(upd!.n);
      add(upd!.members);
    }

    await this.until(() => this.itemsStaged);
    const [items] = (await em.query(MERGE_ITEMS_SQL(itemStage), [])) as Array<{ attached: string; members: string[] | null }>;
    add(items!.members);
    const [orphans] = (await em.query(REJECT_ORPHAN_ITEMS_SQL(itemStage), [importId, this.input.maxStoredRejects])) as Array<{ n: string }>;
    return {
      inserted,
      updated,
      duplicates,
      itemsAttached: Number(items!.attached),
      orphanItems: Number(orphans?.n ?? 0),
      memberIds: [...members],
    };
  }
}
