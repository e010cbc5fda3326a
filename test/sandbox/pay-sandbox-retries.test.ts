import crypto from 'node:crypto';
import type net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { decryptResource } from '../../server/wechat/pay/wxpay-crypto';
import { WxPayVerifier, platformCertificatesFrom, signedHeadersOf } from '../../server/wechat/pay/wxpay-keys';
import { WECHAT_RETRY_GAPS_S } from '../../server/sandbox/pay/pay-sandbox-notifier';
import { waitFor } from '../helpers/wait';
import { merchantClient, outNo, startStandaloneSandbox, testPayKeys, type StandaloneSandbox } from '../wechat/wxpay-helpers';

const APPID = 'wx1234567890abcdef';
const OPENID = 'oMp_retry_payer';

/** A merchant endpoint that answers with the statuses it is told, recording what it received and when. */
async function startReceiver(answers: number[]) {
  const received: { at: number; body: string; headers: Record<string, string | undefined> }[] = [];
  const app: FastifyInstance = Fastify({ logger: false });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, body, done) => done(null, body));
  app.post('/notify', async (req, reply) => {
    received.push({ at: Date.now(), body: req.body as string, headers: signedHeadersOf((n) => req.headers[n] as string | undefined) as Record<string, string | undefined> });
    const status = answers.shift() ?? 204;
    return status === 204 ? reply.code(204).send() : reply.code(status).send({ code: 'FAIL', message: 'busy' });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { received, url: `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}/notify`, close: () => app.close() };
}

describe('Sandbox WeChat Pay notifications: signed, encrypted, retried on WeChat\'s schedule', () => {
  const keys = testPayKeys();
  const m = { apiV3Key: keys.apiV3Key };
  const verifier = new WxPayVerifier({
    publicKey: { id: keys.wechatpayPublicKeyId, key: crypto.createPublicKey(keys.wechatpayPublicKey) },
    platformCertificates: platformCertificatesFrom(keys.platformCertificate),
  });
  let s: StandaloneSandbox;
  afterEach(async () => s?.close());

  async function payTo(url: string) {
    const client = merchantClient(keys, s.base, { notifyUrl: url });
    const { prepayId } = await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: outNo(), amountFen: 100, payerOpenid: OPENID });
    const { transactionId } = await s.sandbox.pay(prepayId, OPENID);
    return s.sandbox.notifications().find((d) => (d.resource as { transaction_id?: string }).transaction_id === transactionId)!;
  }

  it('redelivers until acknowledged, 15 s / 15 s / 30 s apart (time-scaled), signing each attempt afresh', async () => {
    const scale = 0.004; // 15 s → 60 ms
    s = await startStandaloneSandbox(keys, { timeScale: scale });
    const rx = await startReceiver([500, 503, 400]);
    try {
      const d = await payTo(rx.url);
      const done = await s.sandbox.settled(d.id);
      expect(done.state).toBe('acknowledged');
      expect(done.attempts.map((a) => a.status)).toEqual([500, 503, 400, 204]);
      expect(rx.received).toHaveLength(4);
      const gaps = rx.received.slice(1).map((r, i) => r.at - rx.received[i]!.at);
      WECHAT_RETRY_GAPS_S.slice(0, 3).forEach((g, i) => expect(gaps[i]).toBeGreaterThanOrEqual(g * 1000 * scale - 5));
      // The same notification (same id, same ciphertext) every time, each attempt with a fresh valid signature.
      expect(new Set(rx.received.map((r) => r.body)).size).toBe(1);
      expect(new Set(rx.received.map((r) => r.headers.nonce)).size).toBe(4);
      for (const r of rx.received) expect(verifier.verify(r.headers, r.body)).toMatchObject({ ok: true, keyKind: 'public_key' });
      const env = JSON.parse(rx.received[0]!.body);
      expect(env).toMatchObject({ id: d.id, event_type: 'TRANSACTION.SUCCESS', resource_type: 'encrypt-resource', resource: { algorithm: 'AEAD_AES_256_GCM', associated_data: 'transaction' } });
      expect(JSON.parse(decryptResource(m.apiV3Key, env.resource))).toEqual(d.resource);
      // Flipping one ciphertext byte breaks the GCM tag: decryption refuses rather than returning garbage.
      const raw = Buffer.from(env.resource.ciphertext, 'base64');
      raw[0] ^= 1;
      expect(() => decryptResource(m.apiV3Key, { ...env.resource, ciphertext: raw.toString('base64') })).toThrow();
    } finally {
      await rx.close();
    }
  });

  it('gives up after WeChat\'s 15 retries (16 attempts in all) when never acknowledged', async () => {
    s = await startStandaloneSandbox(keys, { timeScale: 0.00002 }); // 24 h 4 min → under 2 s
    const rx = await startReceiver(Array(20).fill(500));
    try {
      const d = await payTo(rx.url);
      const done = await s.sandbox.settled(d.id);
      expect(done.state).toBe('abandoned');
      expect(done.attempts).toHaveLength(1 + WECHAT_RETRY_GAPS_S.length);
      expect(rx.received).toHaveLength(16);
      expect(WECHAT_RETRY_GAPS_S.reduce((a, b) => a + b, 0)).toBe(24 * 3600 + 4 * 60);
    } finally {
      await rx.close();
    }
  });

  it('counts an unreachable endpoint as a failed attempt and keeps retrying', async () => {
    s = await startStandaloneSandbox(keys, { timeScale: 0.0001 });
    const d = await payTo('http://127.0.0.1:9/notify');
    // Two attempts recorded, both refused at the socket: the second proves it was retried, not given up.
    const now = await waitFor('a second attempt', () => {
      const n = s.sandbox.notifications().find((x) => x.id === d.id)!;
      return n.attempts.length >= 2 && n;
    });
    expect(now.state).not.toBe('acknowledged');
    expect(now.attempts.slice(0, 2).map((a) => typeof a.error)).toEqual(['string', 'string']);
  });

  it('signs notifications with the platform certificate when told to', async () => {
    s = await startStandaloneSandbox(keys, { timeScale: 0.001, signWith: 'platform_certificate' });
    const rx = await startReceiver([]);
    try {
      const d = await payTo(rx.url);
      await s.sandbox.settled(d.id);
      expect(rx.received[0]!.headers.serial).toBe(keys.platformSerial);
      expect(verifier.verify(rx.received[0]!.headers, rx.received[0]!.body)).toMatchObject({ ok: true, keyKind: 'platform_certificate' });
    } finally {
      await rx.close();
    }
  });

  it('withdraws a transfer nobody confirms within 24 hours (time-scaled) and notifies CANCELLED', async () => {
    s = await startStandaloneSandbox(keys, { timeScale: 0.00001 }); // 24 h → 864 ms
    const rx = await startReceiver([]);
    try {
      const client = merchantClient(keys, s.base, { notifyUrl: rx.url });
      const billNo = outNo('B');
      const bill = await client.createTransferBill({ appid: APPID, outBillNo: billNo, openid: OPENID, amountFen: 100, remark: '奖励' });
      expect((await client.queryTransferBill(billNo)).state).toBe('WAIT_USER_CONFIRM');
      await waitFor('the bill withdrawn', async () => (await client.queryTransferBill(billNo)).state === 'CANCELLED');
      expect(await client.queryTransferBill(billNo)).toMatchObject({ state: 'CANCELLED', fail_reason: expect.any(String) });
      await expect(s.sandbox.confirmTransfer(bill.package_info!, OPENID)).rejects.toMatchObject({ code: 'sandbox_transfer_not_waiting' });
      const d = s.sandbox.notifications().find((n) => (n.resource as { out_bill_no?: string }).out_bill_no === billNo)!;
      expect((await s.sandbox.settled(d.id)).state).toBe('acknowledged');
      const env = JSON.parse(rx.received.at(-1)!.body);
      expect(env.event_type).toBe('MCHTRANSFER.BILL.FINISHED');
      expect(JSON.parse(decryptResource(m.apiV3Key, env.resource))).toMatchObject({ out_bill_no: billNo, state: 'CANCELLED' });
      expect(s.sandbox.snapshot().transferBills.find((b) => b.out_bill_no === billNo)?.state).toBe('CANCELLED');
    } finally {
      await rx.close();
    }
  });

  it('refuses signatures from an expired platform certificate', async () => {
    const { selfSignedCertificate } = await import('../../server/sandbox/pay/self-signed-cert');
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const old = selfSignedCertificate({ privateKey, commonName: 'old', validFrom: new Date('2019-01-01'), validTo: new Date('2024-01-01') });
    const v = new WxPayVerifier({ platformCertificates: platformCertificatesFrom(old.pem) });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = crypto.sign('sha256', Buffer.from(`${ts}\nn\n{}\n`), privateKey).toString('base64');
    expect(v.verify({ timestamp: ts, nonce: 'n', signature: sig, serial: old.serial }, '{}')).toEqual({ ok: false, reason: 'expired_certificate' });
  });
});
