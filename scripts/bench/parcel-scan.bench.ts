import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { CallbackCrypto, wechatSignature } from '../../server/wechat/callback-crypto';
import type { WechatCredentials } from '../../server/wechat/credentials';
import { buildXml } from '../../server/wechat/xml';
import { benchDatabase, cpuMeter, freePort, openLoop, report, startTarget, type CpuSplit, type LoadResult } from './harness';

export const BENCH_ADMIN = { username: 'bench-owner', password: `bench-${randomBytes(8).toString('hex')}` };

interface Payload {
  path: string;
  body: string;
}

/** Safe-mode `subscribe` events from the batch's parameterised code, one per new follower (distinct openids). */
function subscribes(creds: WechatCredentials, scene: string, openids: string[]): Payload[] {
  const crypto = new CallbackCrypto({ token: creds.token, appid: creds.appid, aesKey: creds.aesKey });
  const now = Math.floor(Date.now() / 1000);
  return openids.map((openid) => {
    const encrypted = crypto.encrypt(
      buildXml({ ToUserName: 'gh_bench', FromUserName: openid, CreateTime: now, MsgType: 'event', Event: 'subscribe', EventKey: `qrscene_${scene}`, Ticket: 'gQbench' }),
    );
    const timestamp = String(now);
    const nonce = String(randomBytes(4).readUInt32BE(0));
    const query = new URLSearchParams({
      signature: wechatSignature(creds.token, timestamp, nonce),
      timestamp,
      nonce,
      openid,
      encrypt_type: 'aes',
      msg_signature: wechatSignature(creds.token, timestamp, nonce, encrypted),
    });
    return { path: `/wechat/callback?${query}`, body: buildXml({ ToUserName: 'gh_bench', Encrypt: encrypted }) };
  });
}

/** People the sandbox's WeChat knows (so that user info is answered as for real followers), their OA openids. */
async function crowd(url: string, n: number): Promise<string[]> {
  const openids: string[] = [];
  while (openids.length < n) {
    const res = await fetch(`${url}/sandbox/api/people/crowd`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: Math.min(10_000, n - openids.length) }),
    });
    if (!res.ok) throw new Error(`sandbox crowd: ${res.status} ${await res.text()}`);
    openids.push(...((await res.json()) as { people: Array<{ oaOpenid: string }> }).people.map((p) => p.oaOpenid));
  }
  return openids;
}

/** Starts the full app in sandbox mode on a fresh database; returns it with its WeChat credentials and an owner token. */
export async function startSandboxApp(databaseUrl: string, dataDir: string) {
  const app = await startTarget('snowball.ts', {
    DATABASE_URL: databaseUrl,
    BENCH_PORT: String(await freePort()),
    DATA_DIR: dataDir,
    NODE_ENV: 'development',
    SANDBOX: 'true',
    WXPAY_MCHID: '',
    WXPAY_API_BASE: '',
    ADMIN_USERNAME: BENCH_ADMIN.username,
    ADMIN_PASSWORD: BENCH_ADMIN.password,
  });
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'sandbox-wechat.json'), 'utf8')) as WechatCredentials;
  const res = await fetch(`${app.url}/api/admin/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BENCH_ADMIN) });
  if (!res.ok) throw new Error(`owner login failed: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  return { app, creds, owner: `Bearer ${token}` };
}

/**
 * npm run bench -- parcel-scan: a launch spike of new followers scanning a parcel insert's code. Signed, encrypted
 * subscribe events go through the full app (verify, decrypt, dedupe, record the follow, welcome reply) into
 * PostgreSQL at fixed, increasing rates; afterwards every event is counted in follow_event and oa_follower.
 */
export async function parcelScanBench(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    report('parcel-scan', { skipped: 'DATABASE_URL is not set: the parcel-scan spike measures PostgreSQL (and Redis with REDIS_URL), not the embedded database' });
    return;
  }
  const rates = (process.env.BENCH_PARCEL_RATES ?? '250,500,1000,1500').split(',').map(Number);
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const db = await benchDatabase(base);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-bench-parcel-'));
  const sql = new Client({ connectionString: db.url });
  try {
    const { app, creds, owner } = await startSandboxApp(db.url, dataDir);
    await sql.connect();
    try {
      const created = await fetch(`${app.url}/api/admin/parcel-batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: owner },
        body: JSON.stringify({ name: '双11 包裹卡', quantityPrinted: 50_000, printingCostFen: 1_500_000, insertText: '扫码后发送淘宝订单号，晒单评价有礼' }),
      });
      if (created.status !== 201) throw new Error(`batch creation failed: ${created.status} ${await created.text()}`);
      const batch = (await created.json()) as { id: string; scene: string };

      const send = (name: string, list: Payload[], rate: number) =>
        openLoop({
          name,
          url: app.url,
          rate,
          requests: list.map((p) => ({ method: 'POST', path: p.path, body: p.body, headers: { 'content-type': 'text/xml' } })),
        });
      // Everyone who will scan exists in the sandbox before the clock starts (creating them is not the workload).
      const people = await crowd(app.url, 1000 + rates.reduce((sum, rate) => sum + rate * seconds, 0));
      const database = new URL(db.url).pathname.slice(1);
      const dueFollowers = async () => (await sql.query('SELECT count(*)::int AS n FROM oa_follower WHERE info_fetched_at IS NULL')).rows[0].n as number;
      /** The queued sweep fetches each new follower's info (100 per WeChat call) and links a member: until none is due. */
      const sweepCatchUp = async () => {
        const from = Date.now();
        while ((await dueFollowers()) > 0) {
          if (Date.now() - from > 120_000) return null;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return (Date.now() - from) / 1000;
      };
      await send('warm-up', subscribes(creds, batch.scene, people.splice(0, 1000)), 200);
      await sweepCatchUp();

      const results: Array<
        LoadResult & { rate: number; sent: number; followEvents: number; followers: number; lost: number; cpuMsPerEvent: CpuSplit; sweepCaughtUpSecondsAfter: number | null }
      > = [];
      for (const rate of rates) {
        // Each rate starts from a settled system: the previous rate's followers all have their info.
        const openids = people.splice(0, rate * seconds);
        const list = subscribes(creds, batch.scene, openids);
        const cpu = await cpuMeter({ appPid: app.pid, database });
        const r = await send(`subscribe at ${rate}/s`, list, rate);
        const cpuMsPerEvent = await cpu.stop(list.length);
        const sweepCaughtUpSecondsAfter = await sweepCatchUp();
        const [{ events, followers }] = (
          await sql.query(
            `SELECT (SELECT count(*)::int FROM follow_event WHERE batch_id = $1 AND openid = ANY($2) AND kind = 'new_follow') AS events,
                    (SELECT count(*)::int FROM oa_follower WHERE first_batch_id = $1 AND openid = ANY($2) AND subscribed) AS followers`,
            [batch.id, openids],
          )
        ).rows;
        results.push({ ...r, rate, sent: list.length, followEvents: events, followers, lost: list.length - Math.min(events, followers), cpuMsPerEvent, sweepCaughtUpSecondsAfter });
      }
      const followerInfo = {
        stillDue: await dueFollowers(),
        linkedToMembers: (await sql.query('SELECT count(*)::int AS n FROM oa_follower WHERE member_id IS NOT NULL')).rows[0].n,
      };
      const sustained = results.filter((r) => r.p99Ms < 50 && r.lost === 0 && r.non2xx === 0 && r.errors === 0).map((r) => r.rate);
      const figures = await fetch(`${app.url}/api/admin/parcel-batches/${batch.id}/figures`, { headers: { authorization: owner } });
      report('parcel-scan', {
        database: 'postgres',
        kv: process.env.REDIS_URL ? 'redis' : 'memory',
        cpus: os.cpus().length,
        payloads: 'safe mode (AES) subscribe events from the batch code (qrscene_<scene>), each a new follower, each delivered once',
        arrivals: 'open loop, evenly spaced; latency counted from when each request was due',
        secondsPerRate: seconds,
        results: results.map(({ name, rate, requestsPerSec, p50Ms, p99Ms, non2xx, errors, sent, followEvents, followers, lost, cpuMsPerEvent, sweepCaughtUpSecondsAfter }) => ({
          name, rate, achievedPerSec: requestsPerSec, p50Ms, p99Ms, non2xx, errors, sent, followEvents, followers, lost, cpuMsPerEvent, sweepCaughtUpSecondsAfter,
        })),
        followerInfo,
        sustainedPerSec: sustained.length ? Math.max(...sustained) : 0,
        goal: '1,000/s with p99 < 50 ms, nothing lost',
        batchFigures: figures.ok ? await figures.json() : `figures: ${figures.status}`,
      });
    } finally {
      await app.stop();
    }
  } finally {
    await sql.end().catch(() => undefined);
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
