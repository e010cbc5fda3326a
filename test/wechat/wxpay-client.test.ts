import crypto from 'node:crypto';
import { waitFor } from '../helpers/wait';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { paySandboxRoutes } from '../../server/sandbox/pay/pay-sandbox.routes';
import { formatAuthorization, randomNonce, requestMessage, requestPaymentMessage, rsaSign, unixSeconds } from '../../server/wechat/pay/wxpay-crypto';
import { WxPayVerifier } from '../../server/wechat/pay/wxpay-keys';
import { WxPayError } from '../../server/wechat/pay/wxpay-errors';
import { merchantClient, outNo, startStandaloneSandbox, testPayKeys, type StandaloneSandbox } from './wxpay-helpers';

const APPID = 'wx1234567890abcdef';
const OPENID = 'oMp_sandbox_payer_0001';

describe('WeChat Pay client against the sandbox on its own port', () => {
  const keys = testPayKeys();
  let s: StandaloneSandbox;
  beforeAll(async () => {
    s = await startStandaloneSandbox(keys, { refundSeconds: 0, timeScale: 0.001 });
  });
  afterAll(async () => s.close());
  afterEach(() => {
    s.sandbox.signWith = 'public_key';
  });

  it('places a JSAPI order and signs wx.requestPayment with the merchant key', async () => {
    const client = merchantClient(keys, s.base);
    const r = await client.jsapiPrepay({ appid: APPID, description: '雪球 测试商品', outTradeNo: outNo(), amountFen: 1990, payerOpenid: OPENID });
    expect(r.prepayId).toMatch(/^wx\d{14}[0-9a-f]{20}$/);
    const p = r.requestPayment;
    expect(p).toMatchObject({ appId: APPID, package: `prepay_id=${r.prepayId}`, signType: 'RSA' });
    const merchantPublic = crypto.createPublicKey(keys.merchantPrivateKey);
    const message = requestPaymentMessage(p.appId, p.timeStamp, p.nonceStr, p.package);
    expect(crypto.verify('sha256', Buffer.from(message), merchantPublic, Buffer.from(p.paySign, 'base64'))).toBe(true);
    expect(crypto.verify('sha256', Buffer.from(message.replace('1', '2')), merchantPublic, Buffer.from(p.paySign, 'base64'))).toBe(false);
  });

  it('refuses a request signed with the wrong key: 401 SIGN_ERROR, nothing created', async () => {
    const stranger = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const client = merchantClient(keys, s.base, { privateKey: stranger });
    const no = outNo();
    const err = await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 1, payerOpenid: OPENID }).catch((e) => e);
    expect(err).toBeInstanceOf(WxPayError);
    expect(err).toMatchObject({ httpStatus: 401, wxCode: 'SIGN_ERROR', code: 'wxpay_sign_error' });
    await expect(merchantClient(keys, s.base).queryByOutTradeNo(no)).rejects.toMatchObject({ httpStatus: 404, wxCode: 'ORDER_NOT_EXIST' });
  });

  it('refuses a tampered body, a wrong serial, a stale timestamp and a missing header', async () => {
    const m = crypto.createPrivateKey(keys.merchantPrivateKey);
    const path = '/v3/pay/transactions/jsapi';
    const body = JSON.stringify({
      appid: APPID, mchid: keys.mchid, description: 'x', out_trade_no: outNo(), notify_url: 'https://a.example/n', amount: { total: 1 }, payer: { openid: OPENID },
    });
    const send = (auth: string | undefined, payload = body) =>
      fetch(`${s.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: payload });
    const auth = (o: { ts?: string; serial?: string; signed?: string } = {}) => {
      const ts = o.ts ?? unixSeconds();
      const nonce = randomNonce();
      const signature = rsaSign(m, requestMessage('POST', path, ts, nonce, o.signed ?? body));
      return formatAuthorization({ mchid: keys.mchid, nonce_str: nonce, timestamp: ts, serial_no: o.serial ?? keys.merchantSerialNo, signature });
    };
    expect((await send(auth())).status).toBe(200); // the control: a correct signature passes
    const tampered = await send(auth(), body.replace('"total":1', '"total":100'));
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ code: 'SIGN_ERROR' });
    expect((await send(auth({ serial: 'ABCDEF0123456789' }))).status).toBe(401);
    expect((await send(auth({ ts: String(Math.floor(Date.now() / 1000) - 3600) }))).status).toBe(401);
    expect((await send(undefined)).status).toBe(401);
  });

  it('verifies every answer: one signed by an unknown key is never trusted', async () => {
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrongVerifier = new WxPayVerifier({ publicKey: { id: keys.wechatpayPublicKeyId, key: other.publicKey } });
    const client = merchantClient(keys, s.base, { verifier: wrongVerifier });
    await expect(
      client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: outNo(), amountFen: 1, payerOpenid: OPENID }),
    ).rejects.toMatchObject({ code: 'wxpay_response_unverified' });
  });

  it('verifies answers signed with a platform certificate too (chosen by Wechatpay-Serial)', async () => {
    s.sandbox.signWith = 'platform_certificate';
    const client = merchantClient(keys, s.base);
    const no = outNo();
    await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 5, payerOpenid: OPENID });
    const q = await client.queryByOutTradeNo(no);
    expect(q).toMatchObject({ out_trade_no: no, trade_state: 'NOTPAY', amount: { total: 5, currency: 'CNY' } });
    const onlyPublicKey = new WxPayVerifier({ publicKey: { id: keys.wechatpayPublicKeyId, key: crypto.createPublicKey(keys.wechatpayPublicKey) } });
    await expect(merchantClient(keys, s.base, { verifier: onlyPublicKey }).queryByOutTradeNo(no)).rejects.toMatchObject({
      code: 'wxpay_response_unverified',
    });
  });

  it('queries, pays, refuses a second payment and refuses to close a paid order', async () => {
    const client = merchantClient(keys, s.base);
    const no = outNo();
    const { prepayId } = await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 300, payerOpenid: OPENID, attach: 'order:1' });
    await expect(s.sandbox.pay(prepayId, 'someone_else')).rejects.toMatchObject({ code: 'sandbox_pay_wrong_payer' });
    const { transactionId } = await s.sandbox.pay(prepayId, OPENID);
    expect(transactionId).toMatch(/^\d{28}$/);
    await expect(s.sandbox.pay(prepayId, OPENID)).rejects.toMatchObject({ code: 'sandbox_order_paid' });
    const byNo = await client.queryByOutTradeNo(no);
    expect(byNo).toMatchObject({ trade_state: 'SUCCESS', transaction_id: transactionId, attach: 'order:1', payer: { openid: OPENID } });
    expect(await client.queryByTransactionId(transactionId)).toEqual(byNo);
    await expect(client.close(no)).rejects.toMatchObject({ wxCode: 'ORDERPAID', kind: 'invalid' });
    await expect(
      client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 300, payerOpenid: OPENID }),
    ).rejects.toMatchObject({ wxCode: 'ORDERPAID' });
  });

  it('closes an unpaid order (204, verified) and the closed order can no longer be paid', async () => {
    const client = merchantClient(keys, s.base);
    const no = outNo();
    const { prepayId } = await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 300, payerOpenid: OPENID });
    await client.close(no);
    expect((await client.queryByOutTradeNo(no)).trade_state).toBe('CLOSED');
    await expect(s.sandbox.pay(prepayId, OPENID)).rejects.toMatchObject({ code: 'sandbox_order_closed' });
  });

  it('repeats a JSAPI order idempotently and refuses the same out_trade_no with other terms', async () => {
    const client = merchantClient(keys, s.base);
    const no = outNo();
    const a = await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 100, payerOpenid: OPENID });
    const b = await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 100, payerOpenid: OPENID });
    expect(b.prepayId).toBe(a.prepayId);
    await expect(client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 200, payerOpenid: OPENID })).rejects.toMatchObject({
      wxCode: 'INVALID_REQUEST',
    });
  });

  it('refunds in part, refuses more than was paid, and the same out_refund_no is the same refund', async () => {
    const client = merchantClient(keys, s.base);
    const no = outNo();
    const { prepayId } = await client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: no, amountFen: 1000, payerOpenid: OPENID });
    const { transactionId } = await s.sandbox.pay(prepayId, OPENID);
    const r1 = await client.refund({ transactionId, outRefundNo: outNo('R'), refundFen: 600, totalFen: 1000, reason: '尺码不合适' });
    expect(r1).toMatchObject({ status: 'PROCESSING', transaction_id: transactionId, out_trade_no: no, amount: { refund: 600, total: 1000 } });
    const again = await client.refund({ transactionId, outRefundNo: r1.out_refund_no, refundFen: 600, totalFen: 1000 });
    expect(again.refund_id).toBe(r1.refund_id);
    await expect(client.refund({ outTradeNo: no, outRefundNo: outNo('R'), refundFen: 500, totalFen: 1000 })).rejects.toMatchObject({ wxCode: 'INVALID_REQUEST' });
    // The refund settles on the sandbox's (scaled) timer: asked again until it has, never a fixed sleep.
    await waitFor('the refund to settle', async () => (await client.queryRefund(r1.out_refund_no)).status !== 'PROCESSING');
    expect((await client.queryRefund(r1.out_refund_no)).status).toBe('SUCCESS');
    expect((await client.queryByOutTradeNo(no)).trade_state).toBe('REFUND');
  });

  it('creates a transfer bill waiting for the person, confirms it, and queries the outcome', async () => {
    const client = merchantClient(keys, s.base);
    const billNo = outNo('B');
    const bill = await client.createTransferBill({ appid: APPID, outBillNo: billNo, openid: OPENID, amountFen: 500, remark: '评价有礼奖励' });
    expect(bill).toMatchObject({ out_bill_no: billNo, state: 'WAIT_USER_CONFIRM' });
    expect(bill.package_info).toEqual(expect.any(String));
    const same = await client.createTransferBill({ appid: APPID, outBillNo: billNo, openid: OPENID, amountFen: 500, remark: '评价有礼奖励' });
    expect(same.transfer_bill_no).toBe(bill.transfer_bill_no);
    await expect(s.sandbox.confirmTransfer(bill.package_info!, 'not_the_payee')).rejects.toMatchObject({ code: 'sandbox_transfer_wrong_person' });
    expect((await client.queryTransferBill(billNo)).state).toBe('WAIT_USER_CONFIRM');
    await s.sandbox.confirmTransfer(bill.package_info!, OPENID);
    expect(await client.queryTransferBill(billNo)).toMatchObject({ state: 'SUCCESS', transfer_amount: 500, openid: OPENID, mch_id: keys.mchid });
    await expect(s.sandbox.confirmTransfer(bill.package_info!, OPENID)).rejects.toMatchObject({ code: 'sandbox_transfer_not_waiting' });
    await expect(client.cancelTransferBill(billNo)).rejects.toMatchObject({ wxCode: 'INVALID_REQUEST' });
  });

  it('cancels an unconfirmed transfer bill, which can then not be confirmed', async () => {
    const client = merchantClient(keys, s.base);
    const billNo = outNo('B');
    const bill = await client.createTransferBill({ appid: APPID, outBillNo: billNo, openid: OPENID, amountFen: 100, remark: '奖励' });
    expect((await client.cancelTransferBill(billNo)).state).toBe('CANCELING');
    await waitFor('the cancellation to finish', async () => (await client.queryTransferBill(billNo)).state !== 'CANCELING');
    expect((await client.queryTransferBill(billNo)).state).toBe('CANCELLED');
    await expect(s.sandbox.confirmTransfer(bill.package_info!, OPENID)).rejects.toMatchObject({ code: 'sandbox_transfer_not_waiting' });
  });

  it('validates input before calling WeChat and reports WeChat parameter errors', async () => {
    const client = merchantClient(keys, s.base);
    await expect(client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: 'short', amountFen: 1, payerOpenid: OPENID })).rejects.toMatchObject({
      code: 'wxpay_bad_merchant_no',
    });
    await expect(client.jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: outNo(), amountFen: 1.5, payerOpenid: OPENID })).rejects.toMatchObject({
      code: 'wxpay_bad_amount',
    });
    await expect(client.createTransferBill({ appid: APPID, outBillNo: outNo('B'), openid: OPENID, amountFen: 100, remark: '奖'.repeat(33) })).rejects.toMatchObject({
      code: 'wxpay_bad_remark',
    });
    await expect(client.createTransferBill({ appid: APPID, outBillNo: 'RR_12345', openid: OPENID, amountFen: 100, remark: 'r' })).rejects.toMatchObject({
      code: 'wxpay_bad_merchant_no',
    });
    await expect(
      client.createTransferBill({ appid: APPID, outBillNo: outNo('B'), openid: OPENID, amountFen: 100, remark: 'r', sceneReportInfos: [] }),
    ).rejects.toMatchObject({ httpStatus: 400, wxCode: 'PARAM_ERROR' });
    // WeChat's floor for a transfer is 0.1 yuan; the same out_refund_no charset allows up to 64 characters.
    await expect(client.createTransferBill({ appid: APPID, outBillNo: outNo('B'), openid: OPENID, amountFen: 9, remark: 'r' })).rejects.toMatchObject({
      httpStatus: 400,
      wxCode: 'INVALID_REQUEST',
    });
    await expect(client.refund({ outTradeNo: outNo(), outRefundNo: 'R'.repeat(65), refundFen: 1, totalFen: 1 })).rejects.toMatchObject({
      code: 'wxpay_bad_merchant_no',
    });
  });

  it('can be mounted inside a parent sandbox plugin that parses JSON its own way', async () => {
    const parent = Fastify({ logger: false });
    await parent.register(
      async (outer) => {
        outer.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, b, done) => done(null, JSON.parse(b as string)));
        await outer.register(paySandboxRoutes, { prefix: '/pay', sandbox: s.sandbox });
      },
      { prefix: '/sandbox' },
    );
    await parent.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${(parent.server.address() as AddressInfo).port}/sandbox/pay`;
      const r = await merchantClient(keys, base).jsapiPrepay({ appid: APPID, description: 'x', outTradeNo: outNo(), amountFen: 1, payerOpenid: OPENID });
      expect(r.prepayId).toMatch(/^wx/);
    } finally {
      await parent.close();
    }
  });

  it('reports an unreachable WeChat Pay as unavailable', async () => {
    const client = merchantClient(keys, 'http://127.0.0.1:9/sandbox/pay');
    await expect(client.queryByOutTradeNo(outNo())).rejects.toMatchObject({ code: 'wxpay_unreachable', kind: 'unavailable' });
  });
});
