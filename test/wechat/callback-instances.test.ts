import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createKv, type KvStore } from '../../server/infra/kv';
import { WechatCallbackService } from '../../server/wechat/callback.service';
import { InboundDispatcher, type InboundMessage } from '../../server/wechat/inbound';
import { parseWechatXml } from '../../server/wechat/xml';
import { waitFor } from '../helpers/wait';
import { cryptoFor, signedCallback, textMessage, wechatTestEnv } from '../helpers/wechat';
import { STORE_RACE } from '../helpers/race';

/** Two instances behind a load balancer share the store (Redis when REDIS_URL is set): one processes, both answer. */
describe('callback dedupe across instances', () => {
  const env = wechatTestEnv();
  let kv: KvStore;
  beforeAll(async () => {
    kv = await createKv(process.env.REDIS_URL, `test:${randomBytes(4).toString('hex')}:`);
  });
  afterAll(async () => kv.close());

  /** An instance whose text handler records the message, waits for `until` and replies. */
  const instance = (seen: InboundMessage[], until: () => Promise<unknown>, replyBudgetMs?: number) => {
    const dispatcher = new InboundDispatcher().onMessage('text', async (msg) => {
      seen.push(msg);
      await until();
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

  it(`the same message on two instances at once is processed by one; both answer the same reply: ${STORE_RACE}`, async () => {
    const seenA: InboundMessage[] = [];
    const seenB: InboundMessage[] = [];
    // The handler holds on a little so that the four deliveries overlap; the dedupe does not depend on it.
    const hold = () => new Promise((r) => setTimeout(r, 100));
    const [a, b] = [instance(seenA, hold), instance(seenB, hold)];
    const xml = textMessage('o-lb', 'twice');
    const answers = await Promise.all([call(a, xml), call(b, xml), call(a, xml), call(b, xml)]);
    expect(seenA.length + seenB.length).toBe(1);
    expect(answers.map((x) => x.outcome).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'processed']);
    for (const answer of answers) expect(replyOf(answer.body)).toBe('reply to twice');
  });

  it('a handler slower than the reply budget is answered success in time, finishes, and its retry gets the reply', async () => {
    const seen: InboundMessage[] = [];
    // The handler finishes only when released: the budget (100 ms) runs out first whatever the machine's speed.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const svc = instance(seen, () => gate, 100);
    const xml = textMessage('o-slow', 'slow');
    const first = await call(svc, xml);
    expect(first).toMatchObject({ body: 'success', outcome: 'timed_out' });
    expect(seen).toHaveLength(1);
    release();
    // WeChat's retry, until the finished handler's reply is there (a retry while it still runs answers empty).
    const retry = await waitFor('the reply of the finished handler', async () => {
      const r = await call(svc, xml);
      return r.body !== '' && r;
    });
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
