import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../server/infra/db';

export interface TestDatabase {
  /** The URL the app connects to. */
  readonly url: string;
  /** True when it is a database on the machine's PostgreSQL (DATABASE_URL set), false when embedded. */
  readonly server: boolean;
  drop(): Promise<void>;
}

/**
 * A clean database for one test file: a fresh database on the PostgreSQL named by DATABASE_URL
 * (dropped afterwards), or an in-memory embedded Postgres when no DATABASE_URL is set.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    const embedded = await startEmbeddedPostgres('memory://');
    return { url: embedded.url, server: false, drop: () => embedded.stop() };
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
    async drop() {
      const c = new Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
