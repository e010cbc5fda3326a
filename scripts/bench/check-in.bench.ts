import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { Client } from 'pg';
import { loadConfig } from '../../server/config';
import { connectAndMigrate, createDataSource, Db } from '../../server/infra/db';
import { MemoryKv } from '../../server/infra/kv';
import { JobQueue } from '../../server/infra/queue';
import { entities } from '../../server/modules';
import { migrations } from '../../migrations';
import { createMemberServices } from '../../server/modules/members/member-services';
import { MpSessionService } from '../../server/modules/mp-session/mp-session.service';
import { benchDatabase, cpuMeter, load, ratio, report, sequence } from './harness';
import { startSandboxApp } from './parcel-scan.bench';

const run = promisify(execFile);

/**
 * One check-in as the app runs it against PostgreSQL, statement for statement: the session lookup, then the
 * check-in statement (rules, yesterday's streak, the row, the seventh-day card, and the credit through the
 * ledger's points_credit function). Each pgbench transaction is a distinct (member, day), so every insert inserts.
 */
const PGBENCH_SCRIPT = `
SELECT nextval('pgb_seq') AS k \\gset
\\set m 1 + :k % :members
\\set d :k / :members
SELECT id, member_id AS mid, mp_openid, expires_at, revoked_at FROM mp_session WHERE token_hash = (SELECT token_hash FROM pgb_member WHERE n = :m) \\gset
WITH r AS (SELECT base_points, day7_bonus, day30_bonus FROM check_in_rules WHERE id = 1), s AS (SELECT coalesce((SELECT streak FROM check_in WHERE member_id = :mid::uuid AND day = (DATE '2000-01-01' + :d::int) - 1), 0) + 1 AS streak), ins AS (INSERT INTO check_in (member_id, day, streak, made_up, reward_points) SELECT :mid::uuid, DATE '2000-01-01' + :d::int, s.streak, false, r.base_points + CASE WHEN s.streak % 7 = 0 THEN r.day7_bonus ELSE 0 END + CASE WHEN s.streak % 30 = 0 THEN r.day30_bonus ELSE 0 END FROM r, s ON CONFLICT DO NOTHING RETURNING streak, reward_points), card AS (INSERT INTO check_in_card (member_id, cards) SELECT :mid::uuid, 1 FROM ins WHERE ins.streak % 7 = 0 ON CONFLICT (member_id) DO UPDATE SET cards = check_in_card.cards + 1) SELECT ins.streak, ins.reward_points, CASE WHEN ins.reward_points > 0 THEN (SELECT c.balance_after FROM points_credit('pgb:' || :k::text, 'h', 'earn', :mid::uuid, ins.reward_points::bigint, CASE WHEN ins.streak % 7 = 0 THEN '连续签到 ' || ins.streak || ' 天' ELSE '每日签到' END, NULL, '{}'::jsonb, NULL, 'issued', now() + interval '1 year') c) END AS balance FROM ins;
`;

/** Members logged in through the session service (as /api/mp/login does after jscode2session), before the clock starts. */
export async function logIn(databaseUrl: string, n: number): Promise<string[]> {
  const dataSource = createDataSource({ url: databaseUrl, poolSize: 8, entities, migrations, applicationName: 'snowball-bench' });
  const queue = new JobQueue(databaseUrl, pino({ level: 'silent' }), { workers: false, max: 1 });
  try {
    await connectAndMigrate(dataSource, databaseUrl);
    await queue.start();
    const db = new Db(dataSource);
    const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
    const m = createMemberServices(db, new MemoryKv(), queue, config);
    const sessions = new MpSessionService(
      db,
      { code2Session: async (code) => ({ openid: `oMpBench${code}`, sessionKey: 'bench' }) },
      { memberForMpOpenid: async (ctx, openid, unionid) => (await m.members.findOrCreateByOpenid(ctx, { app: 'mp', openid, unionid })).memberId },
      30,
    );
    const tokens: string[] = new Array(n);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < n; i = next++) tokens[i] = (await sessions.login({}, String(i))).token;
      }),
    );
    return tokens;
  } finally {
    await queue.stop().catch(() => undefined);
    await dataSource.destroy();
  }
}

/**
 * npm run bench -- check-in: distinct members checking in through POST /api/mp/check-ins (real sessions, the
 * full app, PostgreSQL), then pgbench running the same statements on the same database, in the same run.
 */
export async function checkInBench(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    report('check-in', { skipped: 'DATABASE_URL is not set: the check-in benchmark compares against pgbench on PostgreSQL' });
    return;
  }
  const members = Number(process.env.BENCH_CHECKIN_MEMBERS ?? 6_000);
  const connections = Number(process.env.BENCH_CHECKIN_CONNECTIONS ?? 16);
  const pgbenchSeconds = Number(process.env.BENCH_SECONDS ?? 8);
  const pgbenchClients = Number(process.env.BENCH_PGBENCH_CLIENTS ?? 16);
  const db = await benchDatabase(base);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-bench-checkin-'));
  const sql = new Client({ connectionString: db.url });
  try {
    const { app } = await startSandboxApp(db.url, dataDir);
    let http;
    let cpuPerCheckIn;
    let t0 = Date.now();
    const tokens = await logIn(db.url, members);
    const loginSeconds = (Date.now() - t0) / 1000;
    process.stderr.write(`check-in: ${members} members logged in in ${loginSeconds} s\n`);
    try {
      // Warm-up on the first 500 members, measured run on the rest: each member checks in exactly once.
      const post = (list: string[], name: string) =>
        load({
          name,
          url: app.url,
          connections,
          amount: list.length,
          requests: sequence(list, (token) => ({ method: 'POST', path: '/api/mp/check-ins', headers: { authorization: `Bearer ${token}` } })),
        });
      await post(tokens.slice(0, 500), 'warm-up');
      const cpu = await cpuMeter({ appPid: app.pid, database: new URL(db.url).pathname.slice(1) });
      http = await post(tokens.slice(500), 'POST /api/mp/check-ins, distinct members');
      cpuPerCheckIn = await cpu.stop(members - 500);
    } finally {
      await app.stop();
    }
    process.stderr.write(`check-in: HTTP ${JSON.stringify(http)}\n`);
    await sql.connect();
    const [{ checkIns, earned }] = (
      await sql.query(
        `SELECT (SELECT count(*)::int FROM check_in) AS "checkIns",
                (SELECT count(*)::int FROM points_transaction WHERE kind = 'earn' AND reason = '每日签到') AS earned`,
      )
    ).rows;

    // pgbench on the same members (their sessions), on past days so that nothing collides with today's rows.
    await sql.query('CREATE TABLE pgb_member (n int PRIMARY KEY, token_hash text NOT NULL)');
    await sql.query('INSERT INTO pgb_member SELECT row_number() OVER (ORDER BY id), token_hash FROM mp_session');
    await sql.query('CREATE SEQUENCE pgb_seq');
    const script = path.join(dataDir, 'check-in.pgbench.sql');
    fs.writeFileSync(script, PGBENCH_SCRIPT);
    t0 = Date.now();
    const pgbenchCpu = await cpuMeter({ loadCommand: 'pgbench', database: new URL(db.url).pathname.slice(1) });
    const { stdout } = await run('pgbench', ['-n', '-M', 'prepared', '-c', String(pgbenchClients), '-j', '2', '-T', String(pgbenchSeconds), '-D', `members=${members}`, '-f', script, db.url]);
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? NaN);
    const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    const pgbenchTransactions = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? NaN);
    const cpuPerPgbenchTransaction = await pgbenchCpu.stop(pgbenchTransactions);
    const [{ pgbenchCheckIns }] = (await sql.query(`SELECT count(*)::int AS "pgbenchCheckIns" FROM check_in WHERE day < DATE '2001-01-01'`)).rows;

    report('check-in', {
      database: 'postgres',
      kv: process.env.REDIS_URL ? 'redis' : 'memory',
      cpus: os.cpus().length,
      members,
      loginSeconds,
      http: { ...http, connections, rowsWritten: checkIns, pointsEarned: earned, expected: members },
      pgbench: { tps: Math.round(tps), latencyAvgMs: latencyMs, clients: pgbenchClients, seconds: pgbenchSeconds, mode: 'prepared', failed, rowsWritten: pgbenchCheckIns, cpuMsPerTransaction: cpuPerPgbenchTransaction },
      cpuMsPerCheckIn: cpuPerCheckIn,
      httpToPgbench: ratio(http.requestsPerSec, tps),
      goal: 'HTTP >= 1/3 of pgbench, p99 < 50 ms',
    });
  } finally {
    await sql.end().catch(() => undefined);
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
