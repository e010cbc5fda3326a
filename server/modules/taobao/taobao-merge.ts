import { hash as digest } from 'node:crypto';
import type { PoolClient } from 'pg';
import { copyText, createStageSql, freeText, stageWriter, type StageColumn, type StageValue } from './stage-writer';
import type { StagedOrder } from './taobao-rows';
import {
  BIND_NEW_ORDERS_SQL,
  ENSURE_CHANNELS_SQL,
  EXISTING_ORDERS_SQL,
  FIX_REPEATED_NEW_ORDERS_SQL,
  ORDER_COLUMNS,
  ORDER_ROW,
  STAGED_REPEATS_SQL,
  UPDATE_ORDERS_SQL,
} from './taobao-merge.sql';

/** New orders go straight into sales_order, marked with their import and the digest of their row. */
const NEW_ORDER: StageColumn[] = [...ORDER_ROW, { name: 'import_id', type: 'uuid' }, { name: 'source_hash', type: 'text' }];
/**
 * Rows of orders already there wait in a staging table for the end of the report; a row the order was last written
 * from (`same`) only with its key, to count repeats and to stand as the file's last word on its order.
 */
const STAGED_ORDER: StageColumn[] = [
  { name: 'line', type: 'int' },
  { name: 'fresh', type: 'boolean' },
  { name: 'same', type: 'boolean' },
  ...ORDER_ROW,
  { name: 'source_hash', type: 'text' },
];
/** Embedded: new orders wait too, with their line (the file's last row of an order wins), until published. */
const NEW_STAGED: StageColumn[] = [{ name: 'line', type: 'int' }, ...NEW_ORDER];
/** Embedded: orders published per transaction (each holds the one database session while it runs). */
const PUBLISH_ROWS = 500;
/** line, fresh, same, channel_id, order_no: a `same` row's key. */
const STAGED_KEY = STAGED_ORDER.slice(0, 5);

/** What becomes of a row of a segment: a new order, a row a later one stands for, or staged (the same, or not). */
type Fate = 'new' | 'repeat' | 'same' | 'staged' | 'staged-fresh';
/** A row is kept as COPY text of its columns after channel_id (the channel is known once its segment is handed over). */
const BODY_FREE = freeText(ORDER_ROW.slice(1));
const TAB = 9;

export interface OrderLoadInput {
  importId: string;
  channelKind: 'taobao' | 'tmall';
  defaultStore: string;
  /** Unique per import, for the transaction's staging table. */
  suffix: string;
  embedded: boolean;
  /** Orders per segment: one existence check, then one COPY of the new ones. */
  segmentRows: number;
  /**
   * Embedded only: publishing has begun (the orders become visible chunk by chunk from here on); called before the
   * first chunk, so that a stop from then on is known to leave a part published.
   */
  onPublish?: () => Promise<void>;
}

export interface OrderLoadResult {
  inserted: number;
  updated: number;
  duplicates: number;
  memberIds: string[];
}

type Members = Array<{ members: string[] | null }>;

/**
 * One segment of the report, held as bytes: a row becomes its COPY text as soon as it is read, so that no object of
 * it outlives the row (ten thousand rows of objects survived the young generation and made the garbage collector
 * the import's biggest cost).
 */
class Segment {
  /** Room for a segment of `rows` rows of about a kilobyte (8 MiB at most), grown when a segment needs more. */
  bytes: Buffer;

  constructor(rows: number) {
    this.bytes = Buffer.allocUnsafe(Math.min(1 << 23, Math.max(1 << 16, rows * 1024)));
  }
  used = 0;
  readonly starts: number[] = [];
  readonly lines: number[] = [];
  readonly stores: number[] = [];

  get size(): number {
    return this.starts.length;
  }

  add(line: number, store: number, body: string): void {
    const room = body.length * 3;
    if (this.used + room > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + room));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    this.starts.push(this.used);
    this.lines.push(line);
    this.stores.push(store);
    this.used += this.bytes.write(body, this.used, 'utf8');
  }

  /** Row i's COPY text (without line feed). */
  body(i: number): [number, number] {
    return [this.starts[i]!, i + 1 < this.starts.length ? this.starts[i + 1]! : this.used];
  }

  orderNo(i: number): string {
    const start = this.starts[i]!;
    return this.bytes.toString('latin1', start, this.bytes.indexOf(TAB, start));
  }
}

/** Rows in COPY text, gathered into chunks of a quarter megabyte for the writer. */
class TextChunks {
  private chunk = Buffer.allocUnsafe(1 << 18);
  private used = 0;

  constructor(private readonly send: (text: Buffer) => Promise<void> | undefined) {}

  async row(prefix: string, bytes: Buffer, [start, end]: [number, number], suffix: string): Promise<void> {
    const need = prefix.length + (end - start) + suffix.length + 1;
    if (this.used + need > this.chunk.length) await this.flush(need);
    this.used += this.chunk.write(prefix, this.used, 'latin1');
    this.used += bytes.copy(this.chunk, this.used, start, end);
    this.used += this.chunk.write(suffix, this.used, 'latin1');
    this.chunk[this.used++] = 10;
  }

  async flush(room = 0): Promise<void> {
    if (this.used > 0) {
      const full = this.chunk.subarray(0, this.used);
      this.chunk = Buffer.allocUnsafe(Math.max(1 << 18, room));
      this.used = 0;
      await this.send(full);
    } else if (room > this.chunk.length) {
      this.chunk = Buffer.allocUnsafe(room);
    }
  }
}

/**
 * Loads an order report into sales_order inside the caller's transaction, segment by segment while the file is read.
 * Each segment's rows are asked once which orders are there already; the new ones are copied straight into
 * sales_order (no staging, no per-row conflict arbitration: merges are serialised by the caller's lock), the others
 * are staged. While the database copies one segment the next one is parsed. Once the whole report is read, staged
 * rows update their orders (the file's last row wins, never backwards) and new orders of bound buyers join their
 * member.
 */
export class OrderLoad {
  readonly stage: string;
  /** Embedded: the new orders' staging table. */
  readonly newStage: string;
  private segment: Segment;
  private readonly storeIndex = new Map<string, number>();
  private readonly storeNames: string[] = [];
  private readonly channels = new Map<string, string>();
  /** The previous segment's copies: the connection is busy until they end. */
  private writing: Promise<void> = Promise.resolve();
  private inserted = 0;
  private repeatsInSegments = 0;
  private staged = 0;

  constructor(
    private readonly client: PoolClient,
    private readonly input: OrderLoadInput,
  ) {
    this.segment = new Segment(input.segmentRows);
    this.stage = `import_stage_orders_${input.suffix}`;
    this.newStage = `import_stage_new_orders_${input.suffix}`;
  }

  async begin(): Promise<void> {
    const { embedded } = this.input;
    await this.client.query(createStageSql(this.stage, STAGED_ORDER, !embedded));
    if (embedded) {
      await this.client.query(createStageSql(this.newStage, NEW_STAGED, false));
      // Publishing walks both by order number, a chunk at a time.
      await this.client.query(`CREATE INDEX ON ${this.stage} (order_no)`);
      await this.client.query(`CREATE INDEX ON ${this.newStage} (order_no)`);
    }
  }

  /** Embedded: the staging tables outlive the import's statements; dropped once it ends, however it ends. */
  async drop(): Promise<void> {
    if (!this.input.embedded) return;
    await this.client.query(`DROP TABLE IF EXISTS ${this.stage}, ${this.newStage}`);
  }

  /** Takes one valid row; returns a promise when the caller must wait (a full segment is being handed over). */
  add(order: StagedOrder): Promise<void> | undefined {
    const name = order.storeName || this.input.defaultStore;
    let store = this.storeIndex.get(name);
    if (store === undefined) {
      store = this.storeNames.push(name) - 1;
      this.storeIndex.set(name, store);
    }
    this.segment.add(order.line, store, copyText(bodyValues(order), BODY_FREE));
    return this.segment.size >= this.input.segmentRows ? this.flush() : undefined;
  }

  /** Hands the current segment over: which rows are new is asked now, their copies go on in the background. */
  private async flush(): Promise<void> {
    const segment = this.segment;
    if (segment.size === 0) return;
    this.segment = new Segment(this.input.segmentRows);
    const fate: Fate[] = new Array<Fate>(segment.size).fill('new');
    const last = new Map<string, number>();
    for (let i = 0; i < segment.size; i++) {
      const store = segment.stores[i]!;
      const key = store === 0 ? segment.orderNo(i) : `${store}\u0000${segment.orderNo(i)}`;
      const before = last.get(key);
      if (before !== undefined) {
        fate[before] = 'repeat';
        this.repeatsInSegments++;
      }
      last.set(key, i);
    }
    const rows = [...last.values()];
    // A digest of each row as it will be written: an order written from the same row before is passed over.
    const hashes = new Array<string>(segment.size);
    for (const i of rows) hashes[i] = digest('md5', segment.bytes.subarray(...segment.body(i)), 'hex');
    await this.writing;
    const channels = await this.channelIds();
    const { rows: found } = await this.client.query<{ i: number; fresh: boolean; same: boolean }>({
      // Named, so each connection plans it once (the embedded database shares one session: no names there).
      ...(this.input.embedded ? {} : { name: 'taobao-existing-orders' }),
      text: EXISTING_ORDERS_SQL,
      values: [rows.map((i) => segment.orderNo(i)), rows.map((i) => segment.stores[i]! + 1), channels, this.input.importId, rows.map((i) => hashes[i])],
    });
    // A repeat of an order this import inserted is always staged: the file's last row of it wins.
    for (const f of found) fate[rows[f.i - 1]!] = f.fresh ? 'staged-fresh' : f.same ? 'same' : 'staged';
    this.staged += found.length;
    this.inserted += rows.length - found.length;
    this.writing = this.write(segment, channels, fate, hashes);
    // Keep a failure for the next wait, and keep it from being an unhandled rejection meanwhile.
    this.writing.catch(() => undefined);
  }

  /** New rows into sales_order, then rows of orders already there into the staging table. */
  private async write(segment: Segment, channels: string[], fate: Fate[], hashes: string[]): Promise<void> {
    const { importId, embedded } = this.input;
    const copy = async (table: string, columns: StageColumn[], which: Fate[], row: (i: number, text: TextChunks) => Promise<void>) => {
      if (!fate.some((f) => which.includes(f))) return;
      const writer = stageWriter(this.client, table, columns, embedded);
      const text = new TextChunks((t) => writer.writeText(t));
      for (let i = 0; i < segment.size; i++) if (which.includes(fate[i]!)) await row(i, text);
      await text.flush();
      await writer.finish();
    };
    const channel = (i: number) => channels[segment.stores[i]!]!;
    if (embedded) {
      await copy(this.newStage, NEW_STAGED, ['new'], (i, text) => text.row(`${segment.lines[i]}\t${channel(i)}\t`, segment.bytes, segment.body(i), `\t${importId}\t${hashes[i]}`));
    } else {
      await copy('sales_order', NEW_ORDER, ['new'], (i, text) => text.row(`${channel(i)}\t`, segment.bytes, segment.body(i), `\t${importId}\t${hashes[i]}`));
    }
    await copy(this.stage, STAGED_ORDER, ['staged', 'staged-fresh'], (i, text) =>
      text.row(`${segment.lines[i]}\t${fate[i] === 'staged-fresh'}\tfalse\t${channel(i)}\t`, segment.bytes, segment.body(i), `\t${hashes[i]}`),
    );
    await copy(this.stage, STAGED_KEY, ['same'], (i, text) => {
      const [start] = segment.body(i);
      return text.row(`${segment.lines[i]}\tfalse\ttrue\t${channel(i)}\t`, segment.bytes, [start, segment.bytes.indexOf(TAB, start)], '');
    });
  }

  /** The channel of every store seen so far (by store index): the store, or the default one, of the report's kind. */
  private async channelIds(): Promise<string[]> {
    const unknown = this.storeNames.filter((n) => !this.channels.has(n));
    if (unknown.length > 0) {
      const { rows: got } = await this.client.query<{ id: string; name: string }>(ENSURE_CHANNELS_SQL, [this.input.channelKind, unknown]);
      for (const c of got) this.channels.set(c.name, c.id);
    }
    return this.storeNames.map((n) => this.channels.get(n)!);
  }

  /** The reader failed: wait for the copies under way to end, so that the connection can roll back. */
  async settle(): Promise<void> {
    await this.writing.catch(() => undefined);
  }

  /** The whole report is read: the last segment, then the staged rows, then the members of the new orders. */
  async finish(): Promise<OrderLoadResult> {
    await this.flush();
    await this.writing;
    if (this.input.embedded) return this.publish();
    const { client } = this;
    const params = [this.input.importId];
    const members = new Set<string>();
    const add = (ids: string[] | null | undefined) => ids?.forEach((id) => members.add(id));
    let duplicates = this.repeatsInSegments;
    let updated = 0;
    if (this.staged > 0) {
      await client.query(`ANALYZE ${this.stage}`);
      const { rows: repeats } = await client.query<{ n: string }>(STAGED_REPEATS_SQL(this.stage));
      duplicates += Number(repeats[0]!.n);
      const { rows: fix } = await client.query<{ members: string[] | null }>(FIX_REPEATED_NEW_ORDERS_SQL(this.stage), params);
      add(fix[0]!.members);
      const { rows: upd } = await client.query<{ n: string; members: string[] | null }>(UPDATE_ORDERS_SQL(this.stage), params);
      updated = Number(upd[0]!.n);
      add(upd[0]!.members);
    }
    for (const kind of ['taobao_buyer', 'phone'] as const) {
      const { rows: bound } = (await client.query(BIND_NEW_ORDERS_SQL(kind), params)) as { rows: Members };
      add(bound[0]!.members);
    }
    return { inserted: this.inserted, updated, duplicates, memberIds: [...members] };
  }

  /**
   * Embedded: the staged report becomes visible in short transactions of PUBLISH_ROWS orders each, by order number
   * (every row of an order in the same one), so that the requests waiting on the one database session get through
   * between them. New orders first (the file's last row of each), bound to their members in the same transaction; then
   * the orders that were there, as on PostgreSQL. Until the first chunk nothing of the import is visible.
   */
  private async publish(): Promise<OrderLoadResult> {
    const { client, input } = this;
    const members = new Set<string>();
    const add = (ids: string[] | null | undefined) => ids?.forEach((id) => members.add(id));
    const { rows: counts } = await client.query<{ rows: string; orders: string }>(
      `SELECT count(*) AS rows, count(DISTINCT (order_no, channel_id)) AS orders FROM ${this.newStage}`,
    );
    const newRows = Number(counts[0]!.rows);
    const newOrders = Number(counts[0]!.orders);
    let duplicates = this.repeatsInSegments + newRows - newOrders;
    let updated = 0;
    if (this.staged > 0) {
      const { rows: repeats } = await client.query<{ n: string }>(STAGED_REPEATS_SQL(this.stage));
      duplicates += Number(repeats[0]!.n);
    }
    await input.onPublish?.();
    const chunks = async (table: string, each: (range: string, params: unknown[]) => Promise<void>) => {
      let lo: string | null = '';
      while (lo !== null) {
        const { rows: next }: { rows: Array<{ order_no: string }> } = await client.query<{ order_no: string }>(
          `SELECT order_no FROM ${table} WHERE order_no >= $1 ORDER BY order_no OFFSET ${PUBLISH_ROWS} LIMIT 1`,
          [lo],
        );
        const hi: string | null = next[0]?.order_no ?? null;
        // A chunk, as the staging table the merge statements read: rows of order numbers in [lo, hi).
        const range = `(SELECT * FROM ${table} WHERE order_no >= $2::text ${hi === null ? 'AND $3::text IS NULL' : 'AND order_no < $3::text'})`;
        await client.query('BEGIN');
        try {
          await each(range, [input.importId, lo, hi]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        lo = hi;
      }
    };
    if (newRows > 0) {
      await chunks(this.newStage, async (range, params) => {
        await client.query(
          `INSERT INTO sales_order (${ORDER_COLUMNS}, import_id, source_hash)
           SELECT DISTINCT ON (order_no, channel_id) ${ORDER_COLUMNS}, import_id, source_hash FROM ${range} n
            WHERE n.import_id = $1::uuid
            ORDER BY order_no, channel_id, line DESC`,
          params,
        );
        for (const kind of ['taobao_buyer', 'phone'] as const) {
          const { rows: bound } = (await client.query(BIND_NEW_ORDERS_SQL(kind), [input.importId])) as { rows: Members };
          add(bound[0]!.members);
        }
      });
    }
    if (this.staged > 0) {
      await chunks(this.stage, async (range, params) => {
        const { rows: fix } = await client.query<{ members: string[] | null }>(FIX_REPEATED_NEW_ORDERS_SQL(`${range} r`), params);
        add(fix[0]!.members);
        const { rows: upd } = await client.query<{ n: string; members: string[] | null }>(UPDATE_ORDERS_SQL(`${range} r`), params);
        updated += Number(upd[0]!.n);
        add(upd[0]!.members);
      });
    }
    return { inserted: newOrders, updated, duplicates, memberIds: [...members] };
  }
}

/** An order's columns after channel_id, in ORDER_ROW's order. */
function bodyValues(o: StagedOrder): StageValue[] {
  return [
    o.orderNo, o.buyerKey, o.buyerNick, o.state, o.statusText, o.totalFen, o.paidFen, o.postageFen, o.refundFen,
    o.orderedAt, o.paidAt, o.itemTitle, o.itemCount, o.closeReason, o.buyerMessage, o.receiverName, o.receiverAddress,
    o.receiverPhone, o.phoneLast4, o.phoneHash, o.extra,
  ];
}
