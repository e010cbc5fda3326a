import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createKv, type KvStore } from '../../server/infra/kv';
import { WechatCallbackService } from '../../server/wechat/callback.service';
import { InboundDispatcher, type InboundMessage } from '../../server/wechat/inbound';
import { parseWechatXml } from '../../server/wechat/xml';
import { cryptoFor, signedCallback, textMessage, wechatTestEnv } from '../helpers/wechat';

/** Two instances behind a load balancer share the store (Redis when REDIS_URL is set): one processes, both answer. */
describe('callback dedupe across instances', () => {
  const env = wechatTestEnv();
  let kv: KvStore;
  beforeAll(async () => {
    kv = await createKv(process.env.REDIS_URL, `test:${randomBytes(4).toString('hex')}:`);
  });
  afterAll(async () => kv.close());

  const instance = (seen: InboundMessage[], delayMs: number, replyBudgetMs?: number) => {
    const dispatcher = new InboundDispatcher().onMessage('text', async (msg) => {
      seen.push(msg);
      await new Promise((r) => setTimeout(r, delayMs));
      return { type: 'text', content: `reply to ${msg.content}` };
    });
    return new WechatCallbackService({ crypto: cryptoFor(env), kv, dispatcher, log: pino({ level: 'silent' }) as never, maxAgeSeconds: 300, replyBudgetMs });
  };

  const call = (svc: WechatCallbackService, xml: string) => {
    const req = signedCallback(env, xml);
    const query = Object.fromEntries(new URL(`http://x${req.url}`).searchParams);
    return svc.handle(query, Buffer.from(req.payload), 'r');
  };
  const replyOf = (body: string) => parseWechatXml(cryptoFor(env).decrypt(String(parseWechatXml(body).Encrypt)).message).Content;

  it('the same message on two instances at once is processed by one; both answer the same reply', async () => {
    const seenA: InboundMessage[] = [];
    const seenB: InboundMessage[] = [];
    const [a, b] = [instance(seenA, 100), instance(seenB, 100)];
    const xml = textMessage('o-lb', 'twice');
    const answers = await Promise.all([call(a, xml), call(b, xml), call(a, xml), call(b, xml)]);
    expect(seenA.length + seenB.length).toBe(1);
    expect(answers.map((x) => x.outcome).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'processed']);
    for (const answer of answers) expect(replyOf(answer.body)).toBe('reply to twice');
  });

  it('a handler slower than the reply budget is answered success in time, finishes, and its retry gets the reply', async () => {
    const seen: InboundMessage[] = [];
    const svc = instance(seen, 400, 100);
    const xml = textMessage('o-slow', 'slow');
    const started = Date.now();
    const first = await call(svc, xml);
    expect(Date.now() - started).toBeLessThan(350);
    expect(first).toMatchObject({ body: 'success', outcome: 'timed_out' });
    await new Promise((r) => setTimeout(r, 450));
    const retry = await call(svc, xml);
    expect(retry.outcome).toBe('duplicate');
    expect(replyOf(retry.body)).toBe('reply to slow');
    expect(seen).toHaveLength(1);
  });

  it('plaintext mode: a signed URL used on one instance carries no other body on another', async () => {
    const plainEnv = { ...env, WECHAT_AES_KEY: '' };
    const plain = (seen: InboundMessage[]) =>
      new WechatCallbackService({
        crypto: cryptoFor(plainEnv, undefined),
        kv,
        dispatcher: new InboundDispatcher().onMessage('text', async (msg) => void seen.push(msg)),
        log: pino({ level: 'silent' }) as never,
        maxAgeSeconds: 300,
      });
    const seen: InboundMessage[] = [];
    const [a, b] = [plain(seen), plain(seen)];
    const req = signedCallback(plainEnv, textMessage('o-a', 'first'), { mode: 'raw' });
    const query = Object.fromEntries(new URL(`http://x${req.url}`).searchParams);
    expect((await a.handle(query, Buffer.from(req.payload), 'r')).body).toBe('success');
    await expect(b.handle(query, Buffer.from(textMessage('o-b', 'forged')), 'r')).rejects.toMatchObject({ statusCode: 401, code: 'replayed_nonce' });
    expect(seen.map((m) => m.openid)).toEqual(['o-a']);
  });
});
