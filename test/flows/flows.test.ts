import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { invalid } from '../../server/infra/errors';
import type { FlowDefinition, FlowState } from '../../server/infra/flows';
import { buildTestApp, type TestApp } from '../helpers/app';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/wait';

/**
 * The flow runner through the real app and queue on the real database. A crash is an error thrown by the test hook
 * once a step's completion is recorded: the app is closed there and a new one started on the same database, which
 * picks the run up. Every step's and undo's effect is a row; every call is counted, across both apps.
 */
class Crash extends Error {}

const calls: string[] = [];
let failAt: number | null = null;

/** Three steps, each adding a row (idempotently) and recording what its undo needs; undo deletes it. */
function fixtureFlow(app: FastifyInstance): FlowDefinition<FlowState & { key: string }> {
  const sql = (text: string, params: unknown[]) => app.infra.db.dataSource.query(text, params);
  const step = (i: number) => ({
    name: `step-${i}`,
    async run(_ctx: object, s: FlowState & { key: string }) {
      calls.push(`run:${s.key}:${i}`);
      if (failAt === i) throw invalid('fixture_refused', `step ${i} refused`);
      await sql('INSERT INTO flow_fixture_effect (run_key, step) VALUES ($1, $2) ON CONFLICT DO NOTHING', [s.key, i]);
      return { [`made${i}`]: `${s.key}/${i}` };
    },
    async undo(_ctx: object, s: FlowState & { key: string }) {
      calls.push(`undo:${s.key}:${i}:${String(s[`made${i}`])}`);
      await sql('DELETE FROM flow_fixture_effect WHERE run_key = $1 AND step = $2', [s.key, i]);
    },
  });
  return { name: 'fixture', steps: [step(0), step(1), step(2)] };
}

let database: TestDatabase;
let t: TestApp;
beforeAll(async () => {
  database = await createTestDatabase();
  t = await start();
  await t.app.infra.db.dataSource.query('CREATE TABLE flow_fixture_effect (run_key text, step int, PRIMARY KEY (run_key, step))');
});
afterAll(async () => {
  await t.close();
  await database.drop();
});

async function start(): Promise<TestApp> {
  const next = await buildTestApp({}, undefined, { database });
  next.app.services.flows.define(fixtureFlow(next.app));
  // A run left open while this app's definitions were not there yet is queued again now.
  await next.app.services.flows.resumeAll();
  return next;
}

const effects = async (key: string) =>
  (await t.app.infra.db.dataSource.query('SELECT step FROM flow_fixture_effect WHERE run_key = $1 ORDER BY step', [key])).map((r: { step: number }) => r.step);
const runs = (key: string) => calls.filter((c) => c.startsWith(`run:${key}:`));
const finished = (key: string) => waitFor(`flow ${key} to finish`, async () => {
  const r = await t.app.services.flows.find({}, 'fixture', key);
  return r && r.status !== 'running' && r.status !== 'undoing' ? r : undefined;
});

/** The app stops right after `stepIndex` completed (or was undone), and a new one carries on. */
async function crashAfter(key: string, stepIndex: number, phase: 'run' | 'undo') {
  let crashed = false;
  t.app.services.flows.hooks.afterStep = (run, i) => {
    const undoing = run.status === 'undoing';
    if (!crashed && run.key === key && i === stepIndex && undoing === (phase === 'undo')) {
      crashed = true;
      throw new Crash(`crash after ${phase} ${i}`);
    }
  };
  await t.app.services.flows.start({}, 'fixture', key, { key });
  await waitFor('the crash', () => crashed);
  const left = await t.app.services.flows.find({}, 'fixture', key);
  await t.close();
  t = await start();
  return left!;
}

describe('a crash between two steps', () => {
  for (const i of [0, 1]) {
    it(`after step ${i}: the next app resumes at step ${i + 1}; every step done once`, async () => {
      const key = `crash-${i}-${randomUUID().slice(0, 8)}`;
      const left = await crashAfter(key, i, 'run');
      expect(left).toMatchObject({ status: 'running', nextStep: i + 1 });
      const done = await finished(key);
      expect(done).toMatchObject({ status: 'done', nextStep: 3, state: { key, made0: `${key}/0`, made1: `${key}/1`, made2: `${key}/2` } });
      expect(runs(key)).toEqual([`run:${key}:0`, `run:${key}:1`, `run:${key}:2`]);
      expect(await effects(key)).toEqual([0, 1, 2]);
    });
  }

  it('the same key starts one run', async () => {
    const key = `once-${randomUUID().slice(0, 8)}`;
    const [a, b] = await Promise.all([t.app.services.flows.start({}, 'fixture', key, { key }), t.app.services.flows.start({}, 'fixture', key, { key })]);
    expect(a.id).toBe(b.id);
    await finished(key);
    expect(runs(key)).toHaveLength(3);
  });
});

describe('a failing step', () => {
  afterEach(() => {
    failAt = null;
  });

  it('undoes the completed steps in reverse, each with what its run recorded; the failed one is not undone', async () => {
    failAt = 2;
    const key = `fail-${randomUUID().slice(0, 8)}`;
    await t.app.services.flows.start({}, 'fixture', key, { key });
    const r = await finished(key);
    expect(r).toMatchObject({ status: 'undone', error: expect.stringContaining('step-2: step 2 refused') });
    expect(calls.filter((c) => c.includes(`:${key}:`))).toEqual([`run:${key}:0`, `run:${key}:1`, `run:${key}:2`, `undo:${key}:1:${key}/1`, `undo:${key}:0:${key}/0`]);
    expect(await effects(key)).toEqual([]);
  });

  it('a crash while undoing: the next app finishes the undo, each undo once', async () => {
    failAt = 2;
    const key = `undo-crash-${randomUUID().slice(0, 8)}`;
    const left = await crashAfter(key, 1, 'undo');
    expect(left.status).toBe('undoing');
    const r = await finished(key);
    expect(r.status).toBe('undone');
    expect(calls.filter((c) => c.startsWith(`undo:${key}:`))).toEqual([`undo:${key}:1:${key}/1`, `undo:${key}:0:${key}/0`]);
    expect(await effects(key)).toEqual([]);
  });
});
