import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppPorts, type BuildOptions } from '../../server/app';
import { loadConfig } from '../../server/config';
import { createTestDatabase, type TestDatabase } from './database';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly database: TestDatabase;
  /** Logs in as the owner created from the test config; returns the bearer header. */
  ownerAuth(): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  productHandlers?: boolean;
  /** Start on this database instead of a clean one (it is left for the caller to drop). */
  database?: TestDatabase;
  /** The app's clock for the shop's Shanghai day (check-ins, review rewards): see fixedShanghaiClock. */
  clock?: () => Date;
  /** The modules to wire (the app's list unless a test adds a module of its own). */
  modules?: BuildOptions['modules'];
}

export const TEST_OWNER = { username: 'owner', password: 'owner-password-1' };

/**
 * The real app on a clean database (PostgreSQL when DATABASE_URL is set, else embedded) and the real store
 * (Redis when REDIS_URL is set, under a prefix of its own, else in memory).
 */
export async function buildTestApp(
  env: Record<string, string | undefined> = {},
  ports?: Partial<AppPorts>,
  options: TestAppOptions = {},
): Promise<TestApp> {
  // A database handed in belongs to the caller (a second start on the same data): not dropped here.
  const database = options.database ?? (await createTestDatabase());
  const ownDatabase = !options.database;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // The database's own directory: removed with it (on close(), or by the caller who handed the database in).
    DATA_DIR: database.dataDir,
    ADMIN_USERNAME: TEST_OWNER.username,
    ADMIN_PASSWORD: TEST_OWNER.password,
    RATE_LIMIT_PER_MINUTE: '100000',
    ...env,
    DATABASE_URL: database.server ? database.url : undefined,
    REDIS_URL: env.REDIS_URL ?? process.env.REDIS_URL,
  });
  let app: FastifyInstance;
  try {
    app = await buildApp({
      config,
      databaseUrl: database.url,
      kvPrefix: `test:${randomBytes(4).toString('hex')}:`,
      queuePollingSeconds: 0.5,
      ports,
      productHandlers: options.productHandlers,
      clock: options.clock,
      modules: options.modules,
    });
    await app.ready();
  } catch (err) {
    if (ownDatabase) await database.drop();
    throw err;
  }
  return {
    app,
    database,
    async ownerAuth() {
      const res = await app.inject({ method: 'POST', url: '/api/admin/login', payload: TEST_OWNER });
      if (res.statusCode !== 200) throw new Error(`owner login failed: ${res.statusCode} ${res.body}`);
      return { authorization: `Bearer ${res.json().token}` };
    },
    async close() {
      await app.close();
      if (ownDatabase) await database.drop();
    },
  };
}
