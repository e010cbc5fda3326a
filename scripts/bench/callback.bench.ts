import { randomBytes } from 'node:crypto';
import { CallbackCrypto, wechatSignature } from '../../server/wechat/callback-crypto';
import { newSandboxCredentials } from '../../server/wechat/credentials';
import { buildXml, type XmlOut } from '../../server/wechat/xml';
import { load, ratio, report, startTarget, type LoadResult } from './harness';

interface Payload {
  path: string;
  body: string;
}

/** Safe-mode callbacks as WeChat sends them: 4 in 5 text messages (64-bit MsgIds), 1 in 5 QR follow events, all distinct. */
function payloads(env: Record<string, string>, n: number): Payload[] {
  const crypto = new CallbackCrypto({ token: env.WECHAT_TOKEN!, appid: env.WECHAT_APPID!, aesKey: env.WECHAT_AES_KEY });
  const now = Math.floor(Date.now() / 1000);
  const out: Payload[] = [];
  for (let i = 0; i < n; i++) {
    const openid = `o${randomBytes(12).toString('base64url')}`;
    const fields: Record<string, XmlOut> =
      i % 5 === 4
        ? { ToUserName: 'gh_bench', FromUserName: openid, CreateTime: now, MsgType: 'event', Event: 'subscribe', EventKey: `qrscene_batch-${i % 97}`, Ticket: `gQ${i}` }
        : { ToUserName: 'gh_bench', FromUserName: openid, CreateTime: now, MsgType: 'text', Content: `订单 ${3_000_000_000_000_000_000n + BigInt(i)}`, MsgId: 6_054_768_590_064_713_728n + BigInt(i) };
    const encrypted = crypto.encrypt(buildXml(fields));
    const timestamp = String(now);
    const nonce = String(randomBytes(4).readUInt32BE(0));
    const query = new URLSearchParams({
      signature: wechatSignature(env.WECHAT_TOKEN!, timestamp, nonce),
      timestamp,
      nonce,
      openid,
      encrypt_type: 'aes',
      msg_signature: wechatSignature(env.WECHAT_TOKEN!, timestamp, nonce, encrypted),
    });
    out.push({ path: `/wechat/callback?${query}`, body: buildXml({ ToUserName: 'gh_bench', Encrypt: encrypted }) });
  }
  return out;
}

async function run(name: string, url: string, list: Payload[], seconds?: number): Promise<LoadResult> {
  let i = 0;
  return load({
    name,
    url,
    seconds,
    requests: [
      {
        setupRequest: (req: object) => {
          const p = list[i++ % list.length]!;
          return { ...req, method: 'POST', path: p.path, body: p.body, headers: { 'content-type': 'text/xml' } };
        },
      } as never,
    ],
  });
}

const median = (xs: LoadResult[]): LoadResult => [...xs].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[Math.floor(xs.length / 2)]!;

/**
 * The callback pipeline (verify, decrypt, parse, dedupe, answer `success`) of the full app, against the `wechat`
 * package on Fastify and a bare Fastify answering `success`, on the same safe-mode payloads in the same run.
 * The three run side by side and take turns (BENCH_ROUNDS rounds, median kept), so a busy machine hits all alike.
 */
export async function callbackBench(): Promise<void> {
  const c = newSandboxCredentials();
  const env = { WECHAT_APPID: c.appid, WECHAT_SECRET: c.secret, WECHAT_TOKEN: c.token, WECHAT_AES_KEY: c.aesKey, SANDBOX: 'false' };
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const warm = payloads(env, 5_000);
  const measured = payloads(env, Number(process.env.BENCH_CALLBACK_PAYLOADS ?? 120_000));
  const targets = [
    { name: 'bare fastify: answer success', script: 'bare-fastify.ts' },
    { name: 'wechat package (node-webot) on fastify', script: 'wechat-package.ts' },
    // The pipeline the goals speak of (verify, decrypt, parse, dedupe, reply) in the full app, with no module handling
    // the messages: the product's own work on them is measured by the parcel-scan benchmark.
    { name: 'snowball /wechat/callback', script: 'snowball.ts', env: { BENCH_PRODUCT_HANDLERS: 'false' } },
    { name: 'snowball callback route alone on bare fastify', script: 'callback-pipeline.ts' },
  ];
  const started = await Promise.all(targets.map((t: { script: string; env?: Record<string, string> }) => startTarget(t.script, { ...env, ...t.env })));
  const runs: LoadResult[][] = targets.map(() => []);
  try {
    for (let t = 0; t < targets.length; t++) await run(`${targets[t]!.name} (warm-up)`, started[t]!.url, warm, 2);
    // Each round takes a fresh slice of the payloads: every request is a first delivery, as at a launch.
    const slice = Math.floor(measured.length / rounds);
    for (let r = 0; r < rounds; r++) {
      for (let t = 0; t < targets.length; t++) {
        runs[t]!.push(await run(targets[t]!.name, started[t]!.url, measured.slice(r * slice, (r + 1) * slice), seconds));
      }
    }
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
  const [bare, peer, ours, alone] = runs.map(median) as [LoadResult, LoadResult, LoadResult, LoadResult];
  report('callback', {
    payloads: 'safe mode (AES), 80% text with 64-bit MsgId, 20% QR subscribe events, each delivered once',
    rounds,
    results: [ours, peer, bare, alone],
    ratioToWechatPackage: ratio(ours.requestsPerSec, peer.requestsPerSec),
    ratioToBareFastify: ratio(ours.requestsPerSec, bare.requestsPerSec),
    routeAloneToWechatPackage: ratio(alone.requestsPerSec, peer.requestsPerSec),
    routeAloneToBareFastify: ratio(alone.requestsPerSec, bare.requestsPerSec),
    wechatPackageToBareFastify: ratio(peer.requestsPerSec, bare.requestsPerSec),
    goals: { toWechatPackage: 3, toBareFastify: 0.4 },
    allRuns: runs.map((rs) => rs.map((x) => x.requestsPerSec)),
  });
}
