import { buildTestApp, type TestApp } from '../helpers/app';
import { bigMsgId, eventMessage, signedCallback, textMessage, wechatTestEnv } from '../helpers/wechat';
import { wechatSignature } from '../../server/wechat/callback-crypto';
import { parseWechatXml } from '../../server/wechat/xml';
import type { InboundMessage } from '../../server/wechat/inbound';
import { STORE_RACE } from '../helpers/race';

describe('POST|GET /wechat/callback', () => {
  const previousKey = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg';
  const env = wechatTestEnv({ SANDBOX: 'false', WECHAT_CALLBACK_MAX_AGE_S: '300' });
  let t: TestApp;
  const seen: InboundMessage[] = [];

  beforeAll(async () => {
    t = await buildTestApp({ ...env, WECHAT_AES_KEY_PREVIOUS: previousKey }, undefined, { productHandlers: false });
    const inbound = t.app.services.wechat.inbound;
    inbound.onMessage('text', async (msg) => {
      seen.push(msg);
      if (msg.content === 'boom') throw new Error('handler failed');
      return msg.content === 'hi' ? { type: 'text', content: `你好 ${msg.openid}` } : undefined;
    });
    inbound.onEvent('subscribe', async (msg) => {
      seen.push(msg);
      return { type: 'text', content: `welcome from ${msg.scene}` };
    });
  });
  afterAll(async () => t.close());

  const post = (req: { url: string; payload: string }, headers: Record<string, string> = { 'content-type': 'text/xml' }) =>
    t.app.inject({ method: 'POST', url: req.url, payload: req.payload, headers });

  it('answers the console URL check with echostr, and 401 on a wrong signature', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = wechatSignature(env.WECHAT_TOKEN!, ts, '42');
    const ok = await t.app.inject(`/wechat/callback?signature=${sig}&timestamp=${ts}&nonce=42&echostr=7788990`);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('7788990');
    const bad = await t.app.inject(`/wechat/callback?signature=${'0'.repeat(40)}&timestamp=${ts}&nonce=42&echostr=1`);
    expect(bad.statusCode).toBe(401);
    expect(bad.json().code).toBe('bad_signature');
  });

  it('with a key configured, a plaintext callback (encrypt_type dropped or raw) is refused: signature does not sign the body', async () => {
    const before = seen.length;
    // A URL WeChat signed for a safe-mode delivery, replayed in clear with a made-up event.
    const captured = signedCallback(env, textMessage('o-real', 'hi'));
    const forged = eventMessage('o-forged', 'subscribe', { EventKey: 'qrscene_batch-1', Ticket: 'T' });
    const withoutMode = captured.url.replace(/&encrypt_type=aes&msg_signature=[0-9a-f]+/, '');
    for (const url of [withoutMode, `${withoutMode}&encrypt_type=raw`]) {
      const res = await post({ url, payload: forged });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('encryption_required');
    }
    expect(seen.length).toBe(before);
    // The URL itself still works for the message it was signed for.
    expect((await post(captured)).statusCode).toBe(200);
    expect(seen.filter((m) => m.openid === 'o-real' && m.content === 'hi')).toHaveLength(1);
  });

  it('safe mode: decrypts, dispatches once, answers an encrypted reply signed over its Encrypt', async () => {
    const msgId = bigMsgId();
    const req = signedCallback(env, textMessage('o-safe', 'hi', msgId));
    const res = await post(req);
    expect(res.statusCode).toBe(200);
    const envelope = parseWechatXml(res.body) as Record<string, string>;
    expect(wechatSignature(env.WECHAT_TOKEN!, envelope.TimeStamp!, envelope.Nonce!, envelope.Encrypt!)).toBe(envelope.MsgSignature);
    const reply = parseWechatXml(req.crypto.decrypt(envelope.Encrypt!).message);
    expect(reply.Content).toBe('你好 o-safe');
    const msg = seen.find((m) => m.msgId === msgId)!;
    expect(msg.msgId).toBe(msgId); // 19 digits, exact
  });

  it('compatible mode (clear fields beside Encrypt) trusts only the decrypted message', async () => {
    const req = signedCallback(env, textMessage('o-real', 'compat'));
    const payload = req.payload.replace('<xml>', '<xml><FromUserName><![CDATA[o-forged]]></FromUserName><Content>forged</Content>');
    expect((await post({ url: req.url, payload })).statusCode).toBe(200);
    expect(seen.some((m) => m.content === 'compat' && m.openid === 'o-real')).toBe(true);
    expect(seen.some((m) => m.openid === 'o-forged')).toBe(false);
  });

  it('compatible mode: an <Encrypt> typed inside a clear CDATA field is text, the real element is verified', async () => {
    const req = signedCallback(env, textMessage('o-typed', 'compat2'));
    const payload = req.payload.replace('<xml>', '<xml><Content><![CDATA[look <Encrypt>AAAA</Encrypt>]]></Content>');
    expect((await post({ url: req.url, payload })).statusCode).toBe(200);
    expect(seen.some((m) => m.content === 'compat2' && m.openid === 'o-typed')).toBe(true);
  });

  it(`the same message delivered three times (also at once) is processed once and answered the same: ${STORE_RACE}`, async () => {
    const msgId = bigMsgId();
    const xml = textMessage('o-retry', 'hi', msgId);
    const answers = await Promise.all([0, 1, 2].map(() => post(signedCallback(env, xml))));
    const again = await post(signedCallback(env, xml));
    expect(seen.filter((m) => m.msgId === msgId)).toHaveLength(1);
    for (const res of [...answers, again]) {
      expect(res.statusCode).toBe(200);
      const envelope = parseWechatXml(res.body) as Record<string, string>;
      expect(parseWechatXml(signedCallback(env, '').crypto.decrypt(envelope.Encrypt!).message).Content).toBe('你好 o-retry');
    }
  });

  it('events dedupe on FromUserName + CreateTime; the scene comes without qrscene_', async () => {
    const xml = eventMessage('o-fan', 'subscribe', { EventKey: 'qrscene_batch-7', Ticket: 'T1' }, 1_800_000_000);
    const env2 = { ...env };
    const first = await post(signedCallback(env2, xml));
    const second = await post(signedCallback(env2, xml));
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    const subs = seen.filter((m) => m.type === 'subscribe' && m.openid === 'o-fan');
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({ kind: 'event', scene: 'batch-7', ticket: 'T1', createTime: 1_800_000_000 });
  });

  it('answers success when nobody handles the message', async () => {
    const res = await post(signedCallback(env, eventMessage('o-x', 'VIEW', { EventKey: 'https://example.com' })));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('success');
  });

  it('a failing handler answers 500 and lets the retry process the message again', async () => {
    const msgId = bigMsgId();
    const xml = textMessage('o-boom', 'boom', msgId);
    expect((await post(signedCallback(env, xml))).statusCode).toBe(500);
    expect((await post(signedCallback(env, xml))).statusCode).toBe(500);
    expect(seen.filter((m) => m.msgId === msgId)).toHaveLength(2);
  });

  it('accepts a message encrypted with the previous key and replies with that key', async () => {
    const req = signedCallback(env, textMessage('o-rot', 'hi'), { aesKey: previousKey });
    const res = await post(req);
    expect(res.statusCode).toBe(200);
    const envelope = parseWechatXml(res.body) as Record<string, string>;
    expect(parseWechatXml(req.crypto.decrypt(envelope.Encrypt!).message).Content).toBe('你好 o-rot');
  });

  describe('refuses, storing and processing nothing', () => {
    const count = () => seen.length;

    it('a forged msg_signature, a tampered Encrypt, a wrong key or appid → 401', async () => {
      const before = count();
      const req = signedCallback(env, textMessage('o-evil', 'hi'));
      const forged = await post({ url: req.url.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${'a'.repeat(40)}`), payload: req.payload });
      expect(forged.statusCode).toBe(401);
      expect(forged.json().code).toBe('bad_signature');
      const tampered = await post({ url: req.url, payload: req.payload.replace(/<Encrypt><!\[CDATA\[(.)/, (_m, c: string) => `<Encrypt><![CDATA[${c === 'A' ? 'B' : 'A'}`) });
      expect(tampered.statusCode).toBe(401);
      const wrongKey = await post(signedCallback(env, textMessage('o-evil', 'hi'), { aesKey: 'Q'.repeat(43) }));
      expect(wrongKey.statusCode).toBe(401);
      expect(wrongKey.json().code).toBe('decrypt_failed');
      const otherApp = await post(signedCallback({ ...env, WECHAT_APPID: 'wx0000000000000000' }, textMessage('o-evil', 'hi')));
      expect(otherApp.statusCode).toBe(401);
      expect(otherApp.json().code).toBe('appid_mismatch');
      const plainForged = await post({ ...signedCallback(env, textMessage('o-evil', 'hi'), { mode: 'raw' }), url: `/wechat/callback?signature=${'b'.repeat(40)}&timestamp=1&nonce=1` });
      expect(plainForged.statusCode).toBe(401);
      expect(count()).toBe(before);
    });

    it('a replay outside WECHAT_CALLBACK_MAX_AGE_S → 401 stale_timestamp', async () => {
      const before = count();
      const old = String(Math.floor(Date.now() / 1000) - 301);
      const res = await post(signedCallback(env, textMessage('o-old', 'hi'), { timestamp: old }));
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('stale_timestamp');
      expect(count()).toBe(before);
    });

    it('an entity bomb or external entity inside a correctly signed message → 400', async () => {
      const before = count();
      const bomb = '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><ToUserName>g</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&b;</Content><MsgId>1</MsgId></xml>';
      const res = await post(signedCallback(env, bomb));
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('malformed_xml');
      const xxe = '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>';
      expect((await post(signedCallback(env, xxe))).statusCode).toBe(400);
      expect(count()).toBe(before);
    });

    it('malformed XML, a message without its fields, or no Encrypt → 400', async () => {
      expect((await post(signedCallback(env, '<xml><a>'))).json().code).toBe('malformed_xml');
      expect((await post(signedCallback(env, '<xml><MsgType>text</MsgType></xml>'))).json().code).toBe('invalid_message');
      const req = signedCallback(env, textMessage('o', 'x'));
      expect((await post({ url: req.url, payload: '<xml><ToUserName>x</ToUserName></xml>' })).json().code).toBe('missing_encrypt');
    });

    it('an oversized body → 413 before anything is read', async () => {
      const req = signedCallback(env, textMessage('o', 'x'.repeat(70_000)), { mode: 'raw' });
      const res = await post(req);
      expect(res.statusCode).toBe(413);
    });
  });
});

describe('POST|GET /wechat/callback in plaintext mode (no WECHAT_AES_KEY)', () => {
  const { WECHAT_AES_KEY: _key, ...env } = wechatTestEnv({ SANDBOX: 'false', WECHAT_CALLBACK_MAX_AGE_S: '300' });
  let t: TestApp;
  const seen: InboundMessage[] = [];

  beforeAll(async () => {
    t = await buildTestApp(env, undefined, { productHandlers: false });
    t.app.services.wechat.inbound.onMessage('text', async (msg) => {
      seen.push(msg);
      return { type: 'text', content: `你好 ${msg.openid}` };
    });
    t.app.services.wechat.inbound.onEvent('subscribe', async (msg) => {
      seen.push(msg);
      return undefined;
    });
  });
  afterAll(async () => t.close());

  const post = (req: { url: string; payload: string }) => t.app.inject({ method: 'POST', url: req.url, payload: req.payload, headers: { 'content-type': 'text/xml' } });

  it('accepts plaintext mode and answers a passive reply in clear', async () => {
    const res = await post(signedCallback(env, textMessage('o-plain', 'hi'), { mode: 'raw' }));
    expect(res.statusCode).toBe(200);
    const reply = parseWechatXml(res.body);
    expect(reply).toMatchObject({ ToUserName: 'o-plain', FromUserName: 'gh_test', MsgType: 'text', Content: '你好 o-plain' });
  });

  it('a signed URL carries one body: another body → 401 replayed_nonce; the same body again is a redelivery', async () => {
    const msgId = bigMsgId();
    const req = signedCallback(env, textMessage('o-once', 'hi', msgId), { mode: 'raw' });
    expect((await post(req)).statusCode).toBe(200);
    const forged = await post({ url: req.url, payload: eventMessage('o-forged', 'subscribe', { EventKey: 'qrscene_batch-1', Ticket: 'T' }) });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('replayed_nonce');
    expect(seen.some((m) => m.openid === 'o-forged')).toBe(false);
    const again = await post(req);
    expect(again.statusCode).toBe(200);
    expect(parseWechatXml(again.body).Content).toBe('你好 o-once');
    expect(seen.filter((m) => m.msgId === msgId)).toHaveLength(1);
  });

  it('the console URL check echoes (also twice), and its signed URL then carries no body', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const url = `/wechat/callback?signature=${wechatSignature(env.WECHAT_TOKEN!, ts, '4711')}&timestamp=${ts}&nonce=4711`;
    for (let i = 0; i < 2; i++) {
      const check = await t.app.inject(`${url}&echostr=5566`);
      expect(check.statusCode).toBe(200);
      expect(check.body).toBe('5566');
    }
    const res = await post({ url, payload: textMessage('o-echo', 'hi') });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('replayed_nonce');
    expect(seen.some((m) => m.openid === 'o-echo')).toBe(false);
  });

  it('a safe-mode callback without a configured key → 400 safe_mode_unavailable', async () => {
    const res = await post(signedCallback({ ...env, WECHAT_AES_KEY: 'Q'.repeat(43) }, textMessage('o-aes', 'hi')));
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('safe_mode_unavailable');
  });
});
