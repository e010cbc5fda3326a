import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../server/infra/db';

export interface TestDatabase {
  /** The URL the app connects to. */
  readonly url: string;
  /** True when it is a database on the machine's PostgreSQL (DATABASE_URL set), false when embedded. */
  readonly server: boolean;
  /**
   * The DATA_DIR of the apps started on this database (sandbox credentials and keys, uploads): a directory of its
   * own, so that a restart on the same data finds them and no other test file shares them. Removed by drop().
   */
  readonly dataDir: string;
  drop(): Promise<void>;
}

/**
 * A clean database for one test file: a fresh database on the PostgreSQL named by DATABASE_URL
 * (dropped afterwards), or an in-memory embedded Postgres when no DATABASE_URL is set.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-test-'));
  const removeDataDir = () => fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  const base = process.env.DATABASE_URL;
  if (!base) {
    const embedded = await startEmbeddedPostgres('memory://');
    return {
      url: embedded.url,
      server: false,
      dataDir,
      async drop() {
        await embedded.stop();
        removeDataDir();
      },
    };
  }
  const name = `snowball_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    server: true,
    dataDir,
    async drop() {
      const c = new Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
      removeDataDir();
    },
  };
}
