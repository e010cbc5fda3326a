import { once } from 'node:events';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface StageColumn {
  name: string;
  /** Postgres type, for the table and for the unnest() casts of the batch loader. */
  type: 'int' | 'bigint' | 'text' | 'timestamptz' | 'jsonb' | 'uuid' | 'boolean';
}

export type StageValue = string | number | boolean | null;

/** Loads rows into a table: COPY FROM STDIN on PostgreSQL, large unnest() INSERT batches when embedded. */
export interface StageWriter {
  /** Returns a promise only when the caller must wait (a batch or the socket is being flushed). */
  write(row: StageValue[]): Promise<void> | undefined;
  /** Whole rows already in COPY text form (see copyText), each ending in a line feed. */
  writeText(rows: Buffer): Promise<void> | undefined;
  finish(): Promise<void>;
}

const COPY_ESCAPE = /[\\\t\n\r]/;
const COPY_ESCAPE_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const UNESCAPES: Record<string, string> = { '\\\\': '\\', '\\t': '\t', '\\n': '\n', '\\r': '\r' };

function copyValue(v: StageValue, free: boolean): string {
  if (v === null) return '\\N';
  if (typeof v !== 'string') return String(v);
  return free && COPY_ESCAPE.test(v) ? v.replace(COPY_ESCAPE_ALL, (c) => ESCAPES[c]!) : v;
}

/** Text and jsonb values may hold tabs, line breaks or backslashes; numbers, ids and the times we format never do. */
export function freeText(columns: StageColumn[]): boolean[] {
  return columns.map((c) => c.type === 'text' || c.type === 'jsonb');
}

/** Values as one row of COPY's text format, tab-separated, without the line feed. */
export function copyText(row: StageValue[], free: boolean[]): string {
  let line = copyValue(row[0]!, free[0]!);
  for (let i = 1; i < row.length; i++) line += '\t' + copyValue(row[i]!, free[i]!);
  return line;
}

class CopyWriter implements StageWriter {
  private readonly stream;
  private parts: string[] = [];
  private size = 0;
  private failure: Error | undefined;
  private readonly free: boolean[];

  constructor(client: PoolClient, table: string, columns: StageColumn[]) {
    this.free = freeText(columns);
    this.stream = client.query(copyFrom(`COPY ${table} (${columns.map((c) => c.name).join(', ')}) FROM STDIN`));
    this.stream.on('error', (err: Error) => {
      this.failure = err;
    });
  }

  write(row: StageValue[]): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const line = copyText(row, this.free) + '\n';
    this.parts.push(line);
    this.size += line.length;
    return this.size >= 1 << 18 ? this.flush() : undefined;
  }

  writeText(rows: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    return this.send(rows);
  }

  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    await this.send(text);
  }

  private async send(chunk: string | Buffer): Promise<void> {
    // Back-pressure: wait for the socket to drain before reading more of the file. Both listeners go once either
    // fires (a race of two once() promises left an error listener behind on every wait).
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
      });
    }
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<void> {
    await this.flush();
    const done = Promise.race([once(this.stream, 'finish'), once(this.stream, 'error').then(([e]) => Promise.reject(e))]);
    this.stream.end();
    await done;
  }
}

class BatchWriter implements StageWriter {
  private columns: StageValue[][];
  private count = 0;

  constructor(
    private readonly client: PoolClient,
    private readonly table: string,
    private readonly defs: StageColumn[],
    private readonly batchSize: number,
  ) {
    this.columns = defs.map(() => []);
  }

  write(row: StageValue[]): Promise<void> | undefined {
    for (let i = 0; i < row.length; i++) this.columns[i]!.push(row[i]!);
    return ++this.count >= this.batchSize ? this.flush() : undefined;
  }

  /** Rows in COPY text form, read back into values (embedded imports are small: simplicity over speed here). */
  async writeText(rows: Buffer): Promise<void> {
    for (const line of rows.toString('utf8').split('\n')) {
      if (line === '') continue;
      const wait = this.write(line.split('\t').map((v) => (v === '\\N' ? null : v.replace(/\\[\\tnr]/g, (e) => UNESCAPES[e]!))));
      if (wait) await wait;
    }
  }

  private async flush(): Promise<void> {
    if (this.count === 0) return;
    const params = this.defs.map((d, i) => `$${i + 1}::${d.type}[]`).join(', ');
    await this.client.query(`INSERT INTO ${this.table} (${this.defs.map((d) => d.name).join(', ')}) SELECT * FROM unnest(${params})`, this.columns);
    this.columns = this.defs.map(() => []);
    this.count = 0;
  }

  async finish(): Promise<void> {
    await this.flush();
  }
}

/**
 * COPY FROM STDIN does not survive the embedded server's socket (the protocol loses sync), so embedded mode loads
 * with multi-row INSERT … SELECT FROM unnest() batches instead; each batch is its own short statement.
 */
export function stageWriter(client: PoolClient, table: string, columns: StageColumn[], embedded: boolean): StageWriter {
  // Embedded, every statement holds the one database session for its length: batches small enough to let the
  // requests waiting meanwhile through within a fraction of a second.
  return embedded ? new BatchWriter(client, table, columns, EMBEDDED_BATCH_ROWS) : new CopyWriter(client, table, columns);
}

export const EMBEDDED_BATCH_ROWS = 500;

/**
 * A staging table of the session: no WAL, no file left behind by a failure. In one transaction (PostgreSQL) it is
 * dropped at its commit; embedded imports run in many short transactions, so theirs lives until dropped (or until
 * the process ends).
 */
export function createStageSql(table: string, columns: StageColumn[], untilCommit = true): string {
  return `CREATE TEMP TABLE ${table} (${columns.map((c) => `${c.name} ${c.type}`).join(', ')})${untilCommit ? ' ON COMMIT DROP' : ''}`;
}
