import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config';
import { connectAndMigrate, createDataSource, Db } from './db';
import { createKv, type KvStore } from './kv';
import { JobQueue } from './queue';
import type { MixedList, EntitySchema } from 'typeorm';
import { migrations } from '../../migrations';

/** The shared infrastructure every module stands on. */
export interface Infra {
  readonly config: Config;
  readonly db: Db;
  readonly kv: KvStore;
  readonly queue: JobQueue;
}

export interface InfraOptions {
  /** The database to use: DATABASE_URL, or the embedded server's URL. */
  databaseUrl: string;
  /** Key prefix in the store: lets tests share one Redis without seeing each other. */
  kvPrefix?: string;
  queuePollingSeconds?: number;
  /** The entities of the modules wired (the app's list of definitions gives them). */
  entities: MixedList<Function | string | EntitySchema>;
}

/** Connects the database (and migrates it), the store and the queue; on failure closes what it opened. */
export async function openInfra(config: Config, log: FastifyBaseLogger, opts: InfraOptions): Promise<Infra> {
  const dataSource = createDataSource({
    url: opts.databaseUrl,
    poolSize: config.databaseUrl ? config.databasePoolSize : Math.min(config.databasePoolSize, 5),
    entities: opts.entities,
    migrations,
  });
  await connectAndMigrate(dataSource, opts.databaseUrl);
  let kv: KvStore | undefined;
  try {
    kv = await createKv(config.redisUrl, opts.kvPrefix);
  } catch (err) {
    await dataSource.destroy();
    throw err;
  }
  const queue = new JobQueue(opts.databaseUrl, log.child({ component: 'queue' }), {
    workers: config.queueEnabled,
    pollingIntervalSeconds: opts.queuePollingSeconds,
  });
  return { config, db: new Db(dataSource, { preparedStatements: config.databaseUrl !== undefined }), kv, queue };
}

export async function closeInfra(infra: Infra): Promise<void> {
  await infra.queue.stop();
  await infra.db.dataSource.destroy();
  await infra.kv.close();
}
