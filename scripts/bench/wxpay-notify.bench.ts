import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { ratio, report, startTarget, type LoadResult } from './harness';
import { encryptResource, randomNonce, responseMessage, rsaSign, unixSeconds } from '../../server/wechat/pay/wxpay-crypto';
import type { SandboxPayKeyFile } from '../../server/sandbox/pay/pay-sandbox-keys';

const COUNT = Number(process.env.BENCH_NOTIFICATIONS ?? 4000);

/** Signed, encrypted TRANSACTION.SUCCESS notifications, each a different payment, made before the clock starts. */
function notifications(keys: SandboxPayKeyFile, n: number): { body: string; headers: Record<string, string> }[] {
  const key = crypto.createPrivateKey(keys.wechatpayPrivateKey);
  return Array.from({ length: n }, (_, i) => {
    const resource = {
      appid: 'wxbench0000000000', mchid: keys.mchid, out_trade_no: `BENCH${Date.now()}${i}`,
      transaction_id: `42000${String(Date.now()).slice(-10)}${String(i).padStart(13, '0')}`, trade_type: 'JSAPI',
      trade_state: 'SUCCESS', trade_state_desc: '支付成功', success_time: '2026-11-23T17:00:00+08:00',
      payer: { openid: 'oBench' }, amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
    };
    const body = JSON.stringify({
      id: `EV-BENCH-${crypto.randomUUID()}`, create_time: '2026-11-23T17:00:01+08:00', resource_type: 'encrypt-resource',
      event_type: 'TRANSACTION.SUCCESS', summary: '支付成功',
      resource: encryptResource(keys.apiV3Key, JSON.stringify(resource), 'transaction', 'transaction'),
    });
    const ts = unixSeconds();
    const nonce = randomNonce();
    return {
      body,
      headers: {
        'content-type': 'application/json', 'wechatpay-timestamp': ts, 'wechatpay-nonce': nonce,
        'wechatpay-serial': keys.wechatpayPublicKeyId, 'wechatpay-signature': rsaSign(key, responseMessage(ts, nonce, body)),
      },
    };
  });
}

/** Sends each prepared notification once (or cycles through them), across 50 connections. */
async function fire(name: string, url: string, items: { body: string; headers: Record<string, string> }[], amount: number): Promise<LoadResult> {
  let next = 0;
  const r = await autocannon({
    url,
    connections: 50,
    amount,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const item = items[next++ % items.length]!;
          return { ...req, body: item.body, headers: item.headers };
        },
      },
    ],
  });
  return { name, requestsPerSec: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

/**
 * POST /wechatpay/notify end to end (RSA verify over the raw body, AES-GCM decrypt, the once-only insert, 204):
 * new payments, then redeliveries of the same ones, against a bare Fastify POST in the same run.
 */
export async function wxpayNotifyBench(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-bench-wxpay-'));
  try {
    const bare = await startTarget('bare-fastify-post.ts');
    const app = await startTarget('snowball.ts', { DATA_DIR: dataDir, NODE_ENV: 'development', WXPAY_MCHID: '', WXPAY_API_BASE: '' });
    const keys = JSON.parse(fs.readFileSync(path.join(dataDir, 'sandbox', 'wxpay-keys.json'), 'utf8')) as SandboxPayKeyFile;
    const items = notifications(keys, COUNT);
    const bareResult = await fire('bare fastify POST (parse JSON, 204)', `${bare.url}/wechatpay/notify`, items, COUNT);
    await bare.stop();
    const fresh = await fire('snowball /wechatpay/notify, new payments', `${app.url}/wechatpay/notify`, items, COUNT);
    const redelivered = await fire('snowball /wechatpay/notify, redeliveries', `${app.url}/wechatpay/notify`, items, COUNT);
    await app.stop();
    report('wxpay-notify', {
      database: process.env.DATABASE_URL ? 'postgres' : 'embedded (PGlite: one transaction at a time)',
      notifications: COUNT,
      results: [fresh, redelivered, bareResult],
      ratioToBare: { fresh: ratio(fresh.requestsPerSec, bareResult.requestsPerSec), redelivered: ratio(redelivered.requestsPerSec, bareResult.requestsPerSec) },
    });
    if (process.env.DATABASE_URL) {
      const c = new Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query("DELETE FROM wxpay_notification WHERE notification_id LIKE 'EV-BENCH-%'");
      await c.end();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
