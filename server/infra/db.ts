import fs from 'node:fs';
import path from 'node:path';
import { DataSource, type EntityManager, type EntitySchema, type MixedList, type ObjectLiteral, type EntityTarget, type Repository } from 'typeorm';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * What travels with a call chain: who acts, and the open transaction if there is one.
 * Services take it first; `db.transaction(ctx, fn)` hands `fn` a context carrying the transaction.
 */
export interface Ctx {
  readonly em?: EntityManager;
  readonly requestId?: string;
}

export const systemCtx: Ctx = Object.freeze({});

export class Db {
  constructor(readonly dataSource: DataSource) {}

  /** The manager to use: the context's transaction if one is open, else the pool. */
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
export async function startEmbeddedPostgres(dataDir: string, maxConnections = 24): Promise<EmbeddedPostgres> {
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const { PGLiteSocketServer } = require('@electric-sql/pglite-socket') as typeof import('@electric-sql/pglite-socket');
  const target = dataDir === 'memory://' ? undefined : path.resolve(dataDir, 'pgdata');
  if (target) fs.mkdirSync(target, { recursive: true });
  const db: PGlite = await PGlite.create(target);
  const server: PGLiteSocketServer = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
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
