import crypto from 'node:crypto';
import { buildTestApp, type TestApp } from '../helpers/app';
import { encryptResource, randomNonce, responseMessage, rsaSign, unixSeconds } from '../../server/wechat/pay/wxpay-crypto';
import type { PaySandbox } from '../../server/sandbox/pay/pay-sandbox';
import type { WxPayNoticeMeta } from '../../server/wechat/pay/wxpay-notification.service';
import type { WxPayRefundNotice, WxPayTransaction, WxPayTransferBill } from '../../server/wechat/pay/wxpay.types';
import { outNo } from './wxpay-helpers';
import { listenOnFreePort } from '../helpers/sandbox';
import { PG_RACE, watchConnections } from '../helpers/race';

const APPID = 'wx1234567890abcdef';
const OPENID = 'oMp_sandbox_payer_0002';

describe('POST /wechatpay/notify: verified, decrypted, processed once', () => {
  let t: TestApp;
  let sandbox: PaySandbox;
  const paid: { resource: WxPayTransaction; meta: WxPayNoticeMeta }[] = [];
  const refunds: WxPayRefundNotice[] = [];
  const transfers: WxPayTransferBill[] = [];
  let failNext = 0;

  beforeAll(async () => {
    ({ t } = await listenOnFreePort((port) => buildTestApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, WXPAY_SANDBOX_TIME_SCALE: '0.001' })));
    sandbox = t.app.paySandbox!;
    const n = t.app.services.wxpayNotifications;
    n.on(
      'TRANSACTION.SUCCESS',
      async (ctx, resource, meta) => {
        // Written through ctx, inside the transaction that records the notification.
        await t.app.infra.db.em(ctx).query('SELECT 1');
        if (failNext > 0) {
          failNext--;
          throw new Error('store is down');
        }
        paid.push({ resource, meta });
      },
      { name: 'test-store', match: (r) => !r.out_trade_no.startsWith('OTHER') },
    );
    n.on(['REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED'], async (_ctx, r) => void refunds.push(r), { name: 'test-refunds' });
    n.on('MCHTRANSFER.BILL.FINISHED', async (_ctx, r) => void transfers.push(r), { name: 'test-review-reward' });
  });
  afterAll(async () => t.close());
  afterEach(() => {
    sandbox.signWith = 'public_key';
  });

  const rowCount = async (where = 'true', params: unknown[] = []) =>
    Number((await t.app.infra.db.dataSource.query(`SELECT count(*)::int AS n FROM wxpay_notification WHERE ${where}`, params))[0].n);

  function transaction(overrides: Partial<WxPayTransaction> = {}): WxPayTransaction {
    return {
      appid: APPID,
      mchid: sandbox.keys.mchid,
      out_trade_no: outNo(),
      transaction_id: `4200${Date.now()}${crypto.randomInt(1e9, 1e10 - 1)}`.padEnd(28, '0'),
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      success_time: '2026-11-23T17:00:00+08:00',
      payer: { openid: OPENID },
      amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
      ...overrides,
    };
  }

  function envelope(resource: object, o: { id?: string; eventType?: string; apiV3Key?: string } = {}): string {
    return JSON.stringify({
      id: o.id ?? `EV-${crypto.randomUUID()}`,
      create_time: '2026-11-23T17:00:01+08:00',
      resource_type: 'encrypt-resource',
      event_type: o.eventType ?? 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      resource: encryptResource(o.apiV3Key ?? sandbox.keys.apiV3Key, JSON.stringify(resource), 'transaction', 'transaction'),
    });
  }

  const deliver = (body: string, headers: Record<string, string>) =>
    t.app.inject({ method: 'POST', url: '/wechatpay/notify', headers: { 'content-type': 'application/json', ...headers }, payload: body });

  it('accepts a notification signed with the WeChat Pay public key (PUB_KEY_ID_…)', async () => {
    const r = transaction();
    const body = envelope(r);
    const headers = sandbox.sign(body);
    expect(headers['Wechatpay-Serial']).toMatch(/^PUB_KEY_ID_/);
    const res = await deliver(body, headers);
    expect(res.statusCode).toBe(204);
    expect(paid.at(-1)?.resource).toEqual(r);
    expect(paid.at(-1)?.meta.eventType).toBe('TRANSACTION.SUCCESS');
  });

  it('accepts a notification signed with a platform certificate (chosen by Wechatpay-Serial)', async () => {
    sandbox.signWith = 'platform_certificate';
    const r = transaction();
    const body = envelope(r);
    const headers = sandbox.sign(body);
    expect(headers['Wechatpay-Serial']).toMatch(/^[0-9A-F]{40}$/);
    expect((await deliver(body, headers)).statusCode).toBe(204);
    expect(paid.at(-1)?.resource.out_trade_no).toBe(r.out_trade_no);
    expect(await rowCount('business_key = $1 AND signature_serial = $2', [`transaction:${r.transaction_id}`, headers['Wechatpay-Serial']])).toBe(1);
  });

  it('refuses forged, tampered, stale, unknown-serial and unsigned notifications with 401 and processes nothing', async () => {
    const before = { handled: paid.length, rows: await rowCount() };
    const body = envelope(transaction());
    const good = sandbox.sign(body);
    const forger = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ts = unixSeconds();
    const nonce = randomNonce();
    const forged = { ...good, 'Wechatpay-Timestamp': ts, 'Wechatpay-Nonce': nonce, 'Wechatpay-Signature': rsaSign(forger, responseMessage(ts, nonce, body)) };
    const staleTs = String(Math.floor(Date.now() / 1000) - 600);
    const stale = { ...good, 'Wechatpay-Timestamp': staleTs, 'Wechatpay-Signature': rsaSign(sandbox.keys.wechatpayPrivateKey, responseMessage(staleTs, good['Wechatpay-Nonce']!, body)) };
    const cases: [string, string, Record<string, string>, string][] = [
      ['forged', body, forged, 'wxpay_notify_bad_signature'],
      ['tampered', body.replace('"summary":"支付成功"', '"summary":"支付成功 "'), good, 'wxpay_notify_bad_signature'],
      ['stale', body, stale, 'wxpay_notify_stale_timestamp'],
      ['unknown serial', body, { ...good, 'Wechatpay-Serial': 'PUB_KEY_ID_0000000000000000' }, 'wxpay_notify_unknown_serial'],
      ['unsigned', body, { 'Wechatpay-Timestamp': good['Wechatpay-Timestamp']! }, 'wxpay_notify_missing_headers'],
    ];
    for (const [name, payload, headers, code] of cases) {
      const res = await deliver(payload, headers);
      expect({ name, status: res.statusCode, body: res.json() }).toEqual({ name, status: 401, body: { code: 'FAIL', message: expect.any(String), error: code } });
    }
    expect(paid.length).toBe(before.handled);
    expect(await rowCount()).toBe(before.rows);
  });

  it('processes a replayed notification once, and the same payment under another notification id once', async () => {
    const r = transaction();
    const body = envelope(r, { id: 'EV-replay-1' });
    const handled = paid.length;
    for (let i = 0; i < 3; i++) expect((await deliver(body, sandbox.sign(body))).statusCode).toBe(204);
    const other = envelope(r, { id: 'EV-replay-2' });
    expect((await deliver(other, sandbox.sign(other))).statusCode).toBe(204);
    expect(paid.length).toBe(handled + 1);
    expect(await rowCount('business_key = $1', [`transaction:${r.transaction_id}`])).toBe(1);
  });

  it(`processes ten simultaneous deliveries of one notification once: ${PG_RACE}`, async () => {
    const r = transaction();
    const body = envelope(r);
    const handled = paid.length;
    const race = watchConnections(t.app);
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(body, sandbox.sign(body))));
    race.done();
    expect(results.map((x) => x.statusCode)).toEqual(Array(10).fill(204));
    expect(paid.length).toBe(handled + 1);
  });

  it('answers WeChat error JSON when a handler fails, records nothing, and processes the redelivery', async () => {
    const r = transaction();
    const body = envelope(r);
    failNext = 1;
    const first = await deliver(body, sandbox.sign(body));
    expect(first.statusCode).toBe(500);
    expect(first.json()).toMatchObject({ code: 'FAIL', error: 'wxpay_notify_handler_failed' });
    expect(await rowCount('business_key = $1', [`transaction:${r.transaction_id}`])).toBe(0);
    expect((await deliver(body, sandbox.sign(body))).statusCode).toBe(204);
    expect(paid.at(-1)?.resource.transaction_id).toBe(r.transaction_id);
  });

  it('refuses a signed notification it cannot decrypt or parse (400) and records nothing', async () => {
    const rows = await rowCount();
    const wrongKey = envelope(transaction(), { apiV3Key: 'x'.repeat(32) });
    expect((await deliver(wrongKey, sandbox.sign(wrongKey))).json()).toMatchObject({ error: 'wxpay_notify_undecryptable' });
    const notJson = '{"id": ';
    const res = await deliver(notJson, sandbox.sign(notJson));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'wxpay_notify_malformed' });
    expect(await rowCount()).toBe(rows);
  });

  it('records but hands nobody a notification no handler claims', async () => {
    const r = transaction({ out_trade_no: outNo('OTHER') });
    const handled = paid.length;
    const body = envelope(r);
    expect((await deliver(body, sandbox.sign(body))).statusCode).toBe(204);
    expect(paid.length).toBe(handled);
    const [row] = await t.app.infra.db.dataSource.query('SELECT handled_by FROM wxpay_notification WHERE business_key = $1', [`transaction:${r.transaction_id}`]);
    expect(row.handled_by).toEqual([]);
  });

  it('done means: a JSAPI payment in the sandbox ends in a verified notification at /wechatpay/notify', async () => {
    const client = t.app.services.wxpay!;
    const no = outNo('JS');
    const { prepayId, requestPayment } = await client.jsapiPrepay({ appid: APPID, description: '雪球 会员价商品', outTradeNo: no, amountFen: 2990, payerOpenid: OPENID });
    expect(requestPayment.package).toBe(`prepay_id=${prepayId}`);
    const { transactionId } = await sandbox.pay(prepayId, OPENID);
    const delivery = sandbox.notifications().find((d) => (d.resource as WxPayTransaction).transaction_id === transactionId)!;
    expect(delivery.notifyUrl).toBe(`${t.app.infra.config.publicUrl}/wechatpay/notify`);
    const settled = await sandbox.settled(delivery.id);
    expect(settled.state).toBe('acknowledged');
    expect(settled.attempts).toEqual([{ at: expect.any(String), status: 204 }]);
    const seen = paid.find((p) => p.resource.out_trade_no === no)!;
    expect(seen.resource).toMatchObject({ transaction_id: transactionId, trade_state: 'SUCCESS', amount: { total: 2990 }, payer: { openid: OPENID } });
    expect(seen.meta.notificationId).toBe(delivery.id);
    expect(await rowCount('notification_id = $1', [delivery.id])).toBe(1);
  });

  it('the sandbox redelivers while the server fails, and the payment is processed once when it recovers', async () => {
    const client = t.app.services.wxpay!;
    const no = outNo('JS');
    const { prepayId } = await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 100, payerOpenid: OPENID });
    failNext = 2;
    const { transactionId } = await sandbox.pay(prepayId, OPENID);
    const delivery = sandbox.notifications().find((d) => (d.resource as WxPayTransaction).transaction_id === transactionId)!;
    const settled = await sandbox.settled(delivery.id);
    expect(settled.attempts.map((a) => a.status)).toEqual([500, 500, 204]);
    expect(paid.filter((p) => p.resource.out_trade_no === no)).toHaveLength(1);
  });

  it('a refund ends in a verified REFUND.SUCCESS notification', async () => {
    const client = t.app.services.wxpay!;
    const no = outNo('JS');
    const { prepayId } = await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 1000, payerOpenid: OPENID });
    const { transactionId } = await sandbox.pay(prepayId, OPENID);
    const refund = await client.refund({ outTradeNo: no, outRefundNo: outNo('RF'), refundFen: 400, totalFen: 1000 });
    expect(refund.status).toBe('PROCESSING');
    await waitFor(() => refunds.some((r) => r.refund_id === refund.refund_id), 10_000);
    expect(refunds.find((r) => r.refund_id === refund.refund_id)).toMatchObject({
      refund_status: 'SUCCESS', transaction_id: transactionId, out_trade_no: no, amount: { refund: 400, total: 1000 },
    });
    expect((await client.queryRefund(refund.out_refund_no)).status).toBe('SUCCESS');
  });

  it('a transfer bill waits for the person, and their confirmation ends in MCHTRANSFER.BILL.FINISHED', async () => {
    const client = t.app.services.wxpay!;
    const billNo = outNo('RR');
    const bill = await client.createTransferBill({ appid: APPID, outBillNo: billNo, openid: OPENID, amountFen: 300, remark: '评价有礼' });
    expect(bill.state).toBe('WAIT_USER_CONFIRM');
    expect(transfers.some((x) => x.out_bill_no === billNo)).toBe(false);
    await sandbox.confirmTransfer(bill.package_info!, OPENID);
    await waitFor(() => transfers.some((x) => x.out_bill_no === billNo), 5_000);
    expect(transfers.find((x) => x.out_bill_no === billNo)).toMatchObject({ state: 'SUCCESS', transfer_amount: 300, openid: OPENID });
  });

  it('is in the OpenAPI document while the sandbox API is not', async () => {
    const paths = Object.keys((await t.app.inject('/docs/json')).json().paths);
    expect(paths).toContain('/wechatpay/notify');
    expect(paths.some((p) => p.startsWith('/sandbox/pay'))).toBe(false);
  });
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
