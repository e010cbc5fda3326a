import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { DataSource, QueryFailedError, type QueryRunner, type EntityManager, type EntitySchema, type MixedList, type ObjectLiteral, type EntityTarget, type Repository } from 'typeorm';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { claimDataDir } from './data-dir';

/**
 * What travels with a call chain: who acts, and the open transaction if there is one.
 * Services take it first; `db.transaction(ctx, fn)` hands `fn` a context carrying the transaction.
 */
export interface Ctx {
  readonly em?: EntityManager;
  readonly requestId?: string;
}

export const systemCtx: Ctx = Object.freeze({});

/**
 * A statement of a hot path, parsed and planned by the database once per connection and then only executed.
 * Declare it once at module level: `const FIND = prepared('SELECT …')`.
 */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

export function prepared(text: string): Prepared {
  return Object.freeze({ name: `sb_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`, text });
}

interface PgQueryable {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

export interface DbOptions {
  /**
   * Keep prepared statements on the server's connections. Off for the embedded database: its socket server serves
   * every connection on one session, where one connection's statement names would meet another's.
   */
  preparedStatements?: boolean;
}

export class Db {
  private readonly namedStatements: boolean;

  constructor(
    readonly dataSource: DataSource,
    opts: DbOptions = {},
  ) {
    this.namedStatements = opts.preparedStatements ?? false;
  }

  /** The TypeORM manager (repositories, query builders): the context's transaction if one is open, else the pool. Statements go through rows() or query(). */
  em(ctx: Ctx): EntityManager {
    return ctx.em ?? this.dataSource.manager;
  }

  repo<T extends ObjectLiteral>(ctx: Ctx, entity: EntityTarget<T>): Repository<T> {
    return this.em(ctx).getRepository(entity);
  }

  /** Runs fn in a transaction; joins the caller's transaction when the context already has one. */
  async transaction<T>(ctx: Ctx, fn: (tx: Ctx) => Promise<T>): Promise<T> {
    if (ctx.em?.queryRunner?.isTransactionActive) return fn(ctx);
    return this.dataSource.transaction((em) => fn({ ...ctx, em }));
  }

  /**
   * The one way to run a statement: its rows, on the context's transaction or a pooled connection. (The driver hands
   * UPDATE/DELETE back as [rows, count] and SELECT/INSERT as rows; this answers rows either way: count with RETURNING.)
   */
  async rows<T = Record<string, any>>(ctx: Ctx, text: string, params: unknown[] = []): Promise<T[]> {
    const r = await this.em(ctx).query(text, params);
    if (Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number') return r[0] as T[];
    return r as T[];
  }

  /** The one way to run a hot path's prepared statement (see prepared()): its rows, like rows(). */
  async query<T = Record<string, any>>(ctx: Ctx, stmt: Prepared, params: unknown[]): Promise<T[]> {
    const config = this.namedStatements ? { name: stmt.name, text: stmt.text, values: params } : { text: stmt.text, values: params };
    const runner = ctx.em?.queryRunner as (QueryRunner & { databaseConnection?: PgQueryable }) | undefined;
    let target: PgQueryable;
    if (runner?.isTransactionActive && runner.databaseConnection) {
      target = runner.databaseConnection;
    } else if (ctx.em) {
      return this.rows<T>(ctx, stmt.text, params); // a manager without an open transaction: let it pick its connection
    } else {
      target = (this.dataSource.driver as unknown as { master: PgQueryable }).master; // the pool
    }
    try {
      return (await target.query(config)).rows as T[];
    } catch (err) {
      throw asQueryFailed(err, stmt.text, params);
    }
  }

  /**
   * Runs fn while this process holds a cluster-wide lock named `name` (a session advisory lock on a connection kept
   * aside for it); null at once when another holds it. A crashed holder's session ends and frees the lock.
   */
  async exclusively<T>(name: string, fn: () => Promise<T>): Promise<T | null> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [name]);
      if (!locked) return null;
      try {
        return await fn();
      } finally {
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
      }
    } finally {
      await runner.release();
    }
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}

export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Real Postgres compiled to WASM, served on a free loopback port so the app speaks `pg` to it exactly as to a server.
 * `dataDir` 'memory://' keeps nothing on disk (tests).
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections = 24, role = 'server'): Promise<EmbeddedPostgres> {
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const { PGLiteSocketServer } = require('@electric-sql/pglite-socket') as typeof import('@electric-sql/pglite-socket');
  const target = dataDir === 'memory://' ? undefined : path.resolve(dataDir, 'pgdata');
  // One process owns the directory (see data-dir.ts); throws DataDirBusyError when another does.
  const lock = target ? claimDataDir(dataDir, role) : undefined;
  let db: PGlite | undefined;
  try {
    if (target) fs.mkdirSync(target, { recursive: true });
    db = await PGlite.create(target);
    const server: PGLiteSocketServer = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections });
    keepExtendedQueriesTogether(server);
    await server.start();
    const url = `postgres://postgres@${server.getServerConn()}/postgres`;
    lock?.publish(url);
    const opened = db;
    return {
      url,
      async stop() {
        try {
          await server.stop();
          await opened.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (err) {
    await db?.close().catch(() => undefined);
    lock?.release();
    throw err;
  }
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData(data: Uint8Array): void;
  resolve(bytes: number): void;
  reject(err: unknown): void;
}

interface SocketQueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

/** Extended-protocol and COPY messages that leave a statement open until the connection's Sync (or CopyDone). */
const OPENS_SEQUENCE = new Set(['P', 'B', 'D', 'E', 'C', 'H', 'd'].map((c) => c.charCodeAt(0)));

/**
 * Whether a connection's data leaves a statement open: its last whole message is one of OPENS_SEQUENCE (a
 * Parse…Sync sequence or a COPY not finished). Data ending in Sync closes it, so the next connection may go; judging
 * by the first message alone kept every other connection waiting for this one's next statement, however long the
 * client took to send it. Data not made of whole messages is judged open.
 */
function leavesSequenceOpen(message: Uint8Array): boolean {
  let i = 0;
  let last = -1;
  while (i + 5 <= message.length) {
    last = message[i]!;
    const length = ((message[i + 1]! << 24) | (message[i + 2]! << 16) | (message[i + 3]! << 8) | message[i + 4]!) >>> 0;
    i += 1 + length;
  }
  if (i !== message.length || last < 0) return OPENS_SEQUENCE.has(message[0]!);
  return OPENS_SEQUENCE.has(last);
}

/**
 * pglite-socket serves many connections on PGlite's one session, one protocol message at a time. Out of a
 * transaction it interleaves messages of different connections, so one connection's Bind can meet another's
 * unnamed Parse ("unnamed prepared statement does not exist"), and after such an error its queue stops for good.
 * This keeps each connection's Parse…Sync sequence together (as it already does for a transaction) and keeps the
 * queue running after an error. It replaces one method of the package's internal queue, checked by a test.
 */
function keepExtendedQueriesTogether(server: PGLiteSocketServer): void {
  const q = (server as unknown as { queryQueue: SocketQueryQueue }).queryQueue;
  if (!q || typeof q.processQueue !== 'function' || !Array.isArray(q.queue)) {
    throw new Error('pglite-socket internals changed: review keepExtendedQueriesTogether');
  }
  let openSequence: number | null = null;
  q.processQueue = async function processQueue(this: SocketQueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const owner = openSequence ?? (this.db.isInTransaction() ? this.lastHandlerId : null);
        const index = owner === null ? 0 : this.queue.findIndex((m) => m.handlerId === owner);
        if (index === -1) break; // the owner's next message has not arrived yet; its arrival restarts the loop
        const item = this.queue.splice(index, 1)[0]!;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
        } catch (err) {
          openSequence = null;
          item.reject(err);
          continue;
        }
        openSequence = leavesSequenceOpen(item.message) ? item.handlerId : null;
        this.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };
  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = (handlerId: number) => {
    clear(handlerId);
    if (openSequence === handlerId) openSequence = null;
    void q.processQueue();
  };
}

export interface DataSourceOptions {
  url: string;
  poolSize: number;
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
  applicationName?: string;
}

export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: opts.entities,
    migrations: opts.migrations,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: opts.poolSize,
      // pg closes connections idle for 10 s: the first burst after a quiet spell would pay for new backends (and for
      // preparing its statements on each) just when it is busiest. A few stay open: the hot paths' share.
      min: Math.min(opts.poolSize, 4),
      application_name: opts.applicationName ?? 'snowball',
      connectionTimeoutMillis: 10_000,
    },
  });
}

/** Connects and applies pending migrations; the error names the (password-masked) URL it could not reach. */
export async function connectAndMigrate(ds: DataSource, url: string): Promise<void> {
  try {
    await ds.initialize();
  } catch (err) {
    const reason = (err as Error).message || String((err as { code?: string }).code ?? err);
    throw new Error(`Cannot connect to the database at ${maskUrl(url)}: ${reason}`);
  }
  // Instances starting together take turns: the first migrates, the others then find nothing pending.
  const runner = ds.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', ['snowball:migrations']);
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', ['snowball:migrations']).catch(() => undefined);
    await runner.release();
  }
}

export function maskUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}

/** Errors of prepared statements look like TypeORM's own (isUniqueViolation and the error handler read those). */
function asQueryFailed(err: unknown, text: string, params: unknown[]): unknown {
  return err instanceof Error && 'code' in err ? new QueryFailedError(text, params, err) : err;
}
