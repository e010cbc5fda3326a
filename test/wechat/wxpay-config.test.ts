import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { ConfigError, loadConfig } from '../../server/config';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { buildTestApp } from '../helpers/app';
import { encryptResource } from '../../server/wechat/pay/wxpay-crypto';
import { outNo, startStandaloneSandbox, testPayKeys, type StandaloneSandbox } from './wxpay-helpers';
import { PG_RACE, watchConnections } from '../helpers/race';

const APPID = 'wx1234567890abcdef';

/** Production needs the real WeChat accounts too (the sandbox is refused there). */
const wechatLive = { WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'oa-secret', WECHAT_TOKEN: 'callbacktoken1', MEMBER_DATA_KEY: 'a-long-enough-member-key' };

describe('WeChat Pay configuration', () => {
  const keys = testPayKeys();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-wxpay-'));
  const keyFile = path.join(dir, 'apiclient_key.pem');
  const pubFile = path.join(dir, 'pub_key.pem');
  const certFile = path.join(dir, 'wechatpay_cert.pem');
  fs.writeFileSync(keyFile, keys.merchantPrivateKey);
  fs.writeFileSync(pubFile, keys.wechatpayPublicKey);
  fs.writeFileSync(certFile, keys.platformCertificate);
  const live = {
    WXPAY_MCHID: keys.mchid,
    WXPAY_SERIAL_NO: keys.merchantSerialNo,
    WXPAY_PRIVATE_KEY: keyFile,
    WXPAY_APIV3_KEY: keys.apiV3Key,
    WXPAY_PUBLIC_KEY: pubFile,
    WXPAY_PUBLIC_KEY_ID: keys.wechatpayPublicKeyId,
    WXPAY_PLATFORM_CERTS: certFile,
  };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is sandbox without credentials outside production, off in production, live with them', () => {
    expect(loadConfig({}).wxpay).toEqual({ mode: 'sandbox', apiBase: 'http://127.0.0.1:3000/sandbox/pay', timeScale: 1 });
    expect(loadConfig({}).wxpaySandbox).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', ...wechatLive }).wxpay).toEqual({ mode: 'off' });
    expect(loadConfig({ NODE_ENV: 'production', ...wechatLive }).wxpaySandbox).toBe(false);
    const c = loadConfig({ ...live, NODE_ENV: 'production', ...wechatLive, PUBLIC_URL: 'https://shop.example.com' });
    expect(c.wxpay).toMatchObject({ mode: 'live', mchid: keys.mchid, apiBase: 'https://api.mch.weixin.qq.com', publicKey: { id: keys.wechatpayPublicKeyId } });
    expect(c.wxpaySandbox).toBe(false);
  });

  it.each([
    ['a partial merchant', { WXPAY_MCHID: '1900000001' }, /WXPAY_SERIAL_NO, WXPAY_PRIVATE_KEY, WXPAY_APIV3_KEY required/],
    ['a short APIv3 key', { ...live, WXPAY_APIV3_KEY: 'too-short' }, /^Invalid configuration: WXPAY_APIV3_KEY must be exactly 32 characters/],
    ['a malformed public key id', { ...live, WXPAY_PUBLIC_KEY_ID: 'KEY_1' }, /WXPAY_PUBLIC_KEY_ID must start with PUB_KEY_ID_/],
    ['a public key without its id', { ...live, WXPAY_PUBLIC_KEY_ID: '' }, /WXPAY_PUBLIC_KEY and WXPAY_PUBLIC_KEY_ID go together/],
    ['no WeChat Pay key at all', { ...live, WXPAY_PUBLIC_KEY: '', WXPAY_PUBLIC_KEY_ID: '', WXPAY_PLATFORM_CERTS: '' }, /WXPAY_PUBLIC_KEY \(\+ WXPAY_PUBLIC_KEY_ID\) or WXPAY_PLATFORM_CERTS is required/],
    ['plain http in production', { ...live, NODE_ENV: 'production', ...wechatLive, PUBLIC_URL: 'http://shop.example.com' }, /PUBLIC_URL must be https/],
    ['a malformed API base', { ...live, WXPAY_API_BASE: 'not a url' }, /^Invalid configuration: WXPAY_API_BASE/],
  ])('refuses %s with a clear message', (_label, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes key material in an error', () => {
    let thrown: unknown;
    try {
      loadConfig({ ...live, WXPAY_APIV3_KEY: 'secret-but-short' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(/^Invalid configuration: WXPAY_APIV3_KEY must be exactly 32 characters/);
    expect((thrown as Error).message).not.toContain('secret-but-short');
  });

  it('refuses an unreadable or non-PEM key file at boot, naming the variable, before opening anything', async () => {
    // An unreachable database: the boot must fail on the key before it ever tries to connect.
    const boot = (env: Record<string, string>) =>
      buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', ...env }), databaseUrl: 'postgres://nobody@127.0.0.1:1/none' });
    await expect(boot({ ...live, WXPAY_PRIVATE_KEY: path.join(dir, 'missing.pem') })).rejects.toThrow(/^Invalid configuration: WXPAY_PRIVATE_KEY: cannot read/);
    fs.writeFileSync(path.join(dir, 'garbage.pem'), 'hello');
    await expect(boot({ ...live, WXPAY_PLATFORM_CERTS: path.join(dir, 'garbage.pem') })).rejects.toThrow(ConfigError);
    await expect(boot({ ...live, WXPAY_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nnope\\n-----END PUBLIC KEY-----' })).rejects.toThrow(/WXPAY_PUBLIC_KEY: not a usable public key/);
  });

  describe('live credentials against WeChat Pay at WXPAY_API_BASE (the sandbox on its own port)', () => {
    let s: StandaloneSandbox;
    beforeAll(async () => {
      s = await startStandaloneSandbox(keys);
    });
    afterAll(async () => s.close());

    it('reads PEM files and inline PEM text, and talks to the configured base URL', async () => {
      const t = await buildTestApp({ ...live, WXPAY_PRIVATE_KEY: keys.merchantPrivateKey.replace(/\n/g, '\\n'), WXPAY_API_BASE: s.base });
      try {
        expect(t.app.paySandbox).toBeUndefined(); // live mode never mounts the simulator
        expect((await t.app.inject({ method: 'POST', url: '/sandbox/pay/v3/pay/transactions/jsapi' })).statusCode).toBe(404);
        const no = outNo();
        const { prepayId } = await t.app.services.wxpay!.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 1, payerOpenid: 'o1' });
        expect(prepayId).toMatch(/^wx/);
        s.sandbox.signWith = 'platform_certificate';
        expect((await t.app.services.wxpay!.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY');
      } finally {
        s.sandbox.signWith = 'public_key';
        await t.close();
      }
    });
  });

  it('answers 503 to notifications when WeChat Pay is off', async () => {
    const t = await buildTestApp({ NODE_ENV: 'production', ...wechatLive, PUBLIC_URL: 'https://shop.example.com' });
    try {
      expect(t.app.services.wxpay).toBeNull();
      const res = await t.app.inject({ method: 'POST', url: '/wechatpay/notify', headers: { 'content-type': 'application/json' }, payload: '{}' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'FAIL', error: 'wxpay_not_configured' });
      expect((await t.app.inject({ method: 'GET', url: '/sandbox/pay/v3/refund/domestic/refunds/x' })).statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('Sandbox WeChat Pay keys and several instances', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-wxpay-data-'));
  let database: TestDatabase;
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function instance(): Promise<FastifyInstance> {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '100000', QUEUE_ENABLED: 'false' });
    const app = await buildApp({ config, databaseUrl: database.url, kvPrefix: `t:${crypto.randomBytes(3).toString('hex')}:` });
    await app.ready();
    apps.push(app);
    return app;
  }

  it('generates the sandbox keys once under DATA_DIR, owner-only, and every instance (and restart) agrees', async () => {
    const a = await instance();
    const b = await instance();
    const file = path.join(dataDir, 'sandbox', 'wxpay-keys.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(a.paySandbox!.keys.mchid).toBe(b.paySandbox!.keys.mchid);
    expect(a.paySandbox!.keys.wechatpayPublicKeyId).toMatch(/^PUB_KEY_ID_\d+$/);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).apiV3Key).toBe(a.paySandbox!.keys.apiV3Key);
  });

  it(`processes one notification once when two instances receive it at the same moment: ${PG_RACE}`, async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    let calls = 0;
    for (const app of [a, b]) app.services.wxpayNotifications.on('TRANSACTION.SUCCESS', async () => void calls++, { name: 'count' });
    const body = JSON.stringify({
      id: `EV-${crypto.randomUUID()}`,
      create_time: '2026-11-23T17:00:01+08:00',
      resource_type: 'encrypt-resource',
      event_type: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      resource: encryptResource(a.paySandbox!.keys.apiV3Key, JSON.stringify({ out_trade_no: outNo(), transaction_id: '4200000000000000000000000001', trade_state: 'SUCCESS' }), 'transaction', 'transaction'),
    });
    const deliver = (app: FastifyInstance) =>
      app.inject({ method: 'POST', url: '/wechatpay/notify', headers: { 'content-type': 'application/json', ...a.paySandbox!.sign(body) }, payload: body });
    const race = watchConnections(a, b);
    const results = await Promise.all([deliver(a), deliver(b), deliver(a), deliver(b)]);
    race.done();
    expect(results.map((r) => r.statusCode)).toEqual([204, 204, 204, 204]);
    expect(calls).toBe(1);
  });
});
