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
