import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../server/infra/db';
import { buildTestApp, type TestApp } from '../helpers/app';

const waitFor = async (fn: () => Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting');
};

describe('embedded Postgres', () => {
  it('keeps data written under DATA_DIR across a restart and speaks the pg protocol', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-embedded-'));
    try {
      let pg = await startEmbeddedPostgres(dir);
      let c = new Client({ connectionString: pg.url });
      await c.connect();
      await c.query('CREATE TABLE kept (id text PRIMARY KEY)');
      await c.query("INSERT INTO kept VALUES ('4561255354251345929')");
      await c.end();
      await pg.stop();

      pg = await startEmbeddedPostgres(dir);
      c = new Client({ connectionString: pg.url });
      await c.connect();
      const { rows } = await c.query('SELECT id FROM kept');
      expect(rows).toEqual([{ id: '4561255354251345929' }]);
      await c.end();
      await pg.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('embedded Postgres under concurrent connections', () => {
  it('keeps each connection’s parameterised queries whole while others run transactions', async () => {
    const { Pool } = await import('pg');
    const pg = await startEmbeddedPostgres('memory://');
    const pool = new Pool({ connectionString: pg.url, max: 8 });
    try {
      await pool.query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)');
      await pool.query('INSERT INTO counter VALUES (1, 0)');
      const work = Array.from({ length: 300 }, async (_, i) => {
        if (i % 3 === 0) {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('SELECT n FROM counter WHERE id = $1 FOR UPDATE', [1]);
            await c.query('UPDATE counter SET n = n + $1 WHERE id = $2', [1, 1]);
            await c.query('COMMIT');
          } finally {
            c.release();
          }
          return 'tx';
        }
        const { rows } = await pool.query('SELECT $1::int * 2 AS doubled, $2::text AS label', [i, `q${i}`]);
        expect(rows[0]).toEqual({ doubled: i * 2, label: `q${i}` });
        return 'q';
      });
      const results = await Promise.allSettled(work);
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect((await pool.query('SELECT n FROM counter')).rows[0].n).toBe(100);
      // A failing statement does not stop the queue for everyone after it.
      await expect(pool.query('SELECT * FROM missing_table WHERE id = $1', [1])).rejects.toThrow(/missing_table/);
      expect((await pool.query('SELECT $1::int AS one', [1])).rows[0].one).toBe(1);
    } finally {
      await pool.end();
      await pg.stop();
    }
  });
});

describe('transactions and the durable queue', () => {
  let t: TestApp;
  const seen: string[] = [];

  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('carries the transaction on the context, joins nested calls and rolls back as one', async () => {
    const { db } = t.app.infra;
    await db.dataSource.query('CREATE TABLE tx_probe (n int)');
    await expect(
      db.transaction({}, async (tx) => {
        await db.em(tx).query('INSERT INTO tx_probe VALUES (1)');
        await db.transaction(tx, async (inner) => {
          expect(inner.em).toBe(tx.em);
          await db.em(inner).query('INSERT INTO tx_probe VALUES (2)');
        });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM tx_probe')).toEqual([{ n: 0 }]);
    await db.transaction({}, async (tx) => db.em(tx).query('INSERT INTO tx_probe VALUES (3)'));
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM tx_probe')).toEqual([{ n: 1 }]);
  });

  it('enqueues a job only if the transaction that sent it commits', async () => {
    // A queue of its own, started for this test on the same database (workers on).
    const { JobQueue } = await import('../../server/infra/queue');
    const queue = new JobQueue(t.database.url, t.app.log, { workers: true, pollingIntervalSeconds: 0.5 });
    queue.define<{ n: string }>({ name: 'probe', handler: async (data) => void seen.push(data.n) });
    await queue.start();
    try {
      const { db } = t.app.infra;
      await expect(
        db.transaction({}, async (tx) => {
          await queue.send(tx, 'probe', { n: 'rolled-back' });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      await db.transaction({}, async (tx) => {
        await queue.send(tx, 'probe', { n: 'committed' });
      });
      await waitFor(async () => seen.includes('committed'));
      expect(seen).toEqual(['committed']);
      await expect(queue.send({}, 'nope', {})).rejects.toThrow('unknown job nope');
    } finally {
      await queue.stop();
    }
  });

  it('keeps a job queued while no worker runs and runs it after a restart', async () => {
    const { JobQueue } = await import('../../server/infra/queue');
    const ran: string[] = [];
    const producer = new JobQueue(t.database.url, t.app.log, { workers: false });
    producer.define<{ n: string }>({ name: 'durable', handler: async () => undefined });
    await producer.start();
    await producer.send({}, 'durable', { n: 'survives' });
    await producer.stop();

    const consumer = new JobQueue(t.database.url, t.app.log, { workers: true, pollingIntervalSeconds: 0.5 });
    consumer.define<{ n: string }>({ name: 'durable', handler: async (d) => void ran.push(d.n) });
    await consumer.start();
    try {
      await waitFor(async () => ran.length === 1);
      expect(ran).toEqual(['survives']);
      await waitFor(async () => (await consumer.counts('durable')).completed === 1);
    } finally {
      await consumer.stop();
    }
  });
});

describe('the queue’s timers', () => {
  it('pg-boss waits on timers loaded once (a late worker loop loads no module), aborts at once, and still rejects on its error', async () => {
    await import('../../server/infra/queue');
    const { delay } = require('pg-boss/src/tools') as { delay: ((ms: number, error?: string) => Promise<void> & { abort(): void }) & { fromSnowball?: true } };
    expect(delay.fromSnowball).toBe(true);
    const started = Date.now();
    const waiting = delay(10_000);
    waiting.abort();
    await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(delay(5, 'timed out')).rejects.toThrow('timed out');
  });
});
