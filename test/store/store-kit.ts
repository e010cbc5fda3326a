import { createVerify, randomBytes } from 'node:crypto';
import { systemCtx } from '../../server/infra/db';
import { PRIVACY_NOTICE_VERSION } from '../../server/modules/mp-session/mp-session.service';
import type { PaymentParams } from '../../server/modules/store/store.ports';
import { STORE_TRADE_PREFIX } from '../../server/modules/store/orders.service';
import { chinaIso, chinaStamp } from '../../server/sandbox/pay/pay-sandbox-notifier';
import type { PaySandbox } from '../../server/sandbox/pay/pay-sandbox';
import { encryptResource } from '../../server/wechat/pay/wxpay-crypto';
import type { WxPayRefund, WxPayTransaction } from '../../server/wechat/pay/wxpay.types';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import type { TestAppOptions } from '../helpers/app';

/**
 * The store through the real app in sandbox mode: members log in with WeChat sandbox codes, points go through the
 * points ledger, tiers through the tier service, and payments through the WeChat Pay sandbox, whose signed
 * notifications reach /wechatpay/notify over HTTP.
 */
export interface StoreMember {
  memberId: string;
  personId: string;
  mpOpenid: string;
  headers: { authorization: string };
}

export interface StoreKit {
  t: SandboxTestApp;
  admin: { authorization: string };
  wxpay: PaySandbox;
  /**
   * A member session: a sandbox person's wx.login code through the session service (the HTTP login is rate-limited
   * per address), with the current privacy notice accepted over HTTP unless `acceptPrivacy: false`.
   */
  member(name: string, opts?: { acceptPrivacy?: boolean }): Promise<StoreMember>;
  /** Points through the points ledger, as any earning would. */
  grant(memberId: string, points: number): Promise<void>;
  balance(memberId: string): Promise<number>;
  /** Ledger transactions under one idempotency key. */
  entries(key: string): Promise<number>;
  /** The member pays the order's prepay in the WeChat Pay sandbox; resolves once the notification has been answered. */
  pay(m: StoreMember, orderId: string): Promise<{ transactionId: string; notification: string }>;
  /** WeChat's view of the store order of this number (state, amount, payer), under its out_trade_no. */
  sandboxOrder(orderNo: string): WxPayTransaction;
  refundsOf(orderNo: string): WxPayRefund[];
  /** The out_trade_no WeChat knows a store order by (its payment intent's). */
  tradeNo(orderNo: string): string;
  /** A WeChat Pay notification signed with the sandbox's keys, posted once to /wechatpay/notify; answers the status. */
  notify(eventType: string, originalType: 'transaction' | 'refund', resource: object, id?: string): Promise<{ status: number; body: string }>;
  /** The sandbox's delivered notification again, as WeChat redelivers when it missed the answer. */
  redeliver(notificationId: string): Promise<{ status: number; body: string }>;
  /** wx.requestPayment's parameters carry the merchant's signature over appid, time, nonce and package. */
  verifyPaymentSign(p: PaymentParams): boolean;
  prepayIdOf(orderId: string): Promise<string>;
}

export async function storeKit(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<StoreKit> {
  const t = await buildSandboxApp(env, options);
  const wxpay = t.app.paySandbox;
  if (!wxpay) throw new Error('the WeChat Pay sandbox is not mounted');
  const sql = (text: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(text, params);
  const appid = t.app.services.wechat.credentials.mp?.appid ?? t.app.services.wechat.credentials.appid;

  const notify: StoreKit['notify'] = async (eventType, originalType, resource, id) => {
    const body = JSON.stringify({
      id: id ?? `EV-${chinaStamp(new Date())}${randomBytes(5).readUIntBE(0, 5).toString().padStart(13, '0')}`,
      create_time: chinaIso(new Date()),
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary: eventType,
      resource: encryptResource(wxpay.keys.apiV3Key, JSON.stringify(resource), originalType, originalType),
    });
    const res = await fetch(`${t.baseUrl}/wechatpay/notify`, { method: 'POST', headers: { 'content-type': 'application/json', ...wxpay.sign(body) }, body });
    return { status: res.status, body: await res.text() };
  };

  const kit: StoreKit = {
    t,
    admin: await t.ownerAuth(),
    wxpay,
    async member(name, opts = {}) {
      const person = (await t.sandbox('POST', '/people', { nickname: name.slice(0, 32) })).body as { id: string; mpOpenid: string };
      const { code } = (await t.sandbox('POST', `/people/${person.id}/login-code`, {})).body as { code: string };
      const s = await t.app.services.mpSessions.login(systemCtx, code);
      const headers = { authorization: `Bearer ${s.token}` };
      if (opts.acceptPrivacy !== false) {
        const accepted = await t.app.inject({ method: 'POST', url: '/api/mp/privacy/accept', headers, payload: { version: PRIVACY_NOTICE_VERSION } });
        if (accepted.statusCode !== 204) throw new Error(`privacy notice not accepted: ${accepted.statusCode} ${accepted.body}`);
      }
      return { memberId: s.memberId, personId: person.id, mpOpenid: person.mpOpenid, headers };
    },
    async grant(memberId, points) {
      await t.app.services.points.earn(systemCtx, { memberId, amount: points, idempotencyKey: `test-grant:${randomBytes(8).toString('hex')}`, reason: '测试发放' });
    },
    balance: (memberId) => t.app.services.points.balance(systemCtx, memberId),
    async entries(key) {
      return (await sql('SELECT count(*)::int AS n FROM points_transaction WHERE idempotency_key = $1', [key]))[0].n as number;
    },
    async prepayIdOf(orderId) {
      const [row] = await sql("SELECT prepay_id FROM payment_intent WHERE kind = 'store_order' AND key = $1", [orderId]);
      if (!row?.prepay_id) throw new Error(`order ${orderId} has no prepay`);
      return row.prepay_id as string;
    },
    async pay(m, orderId) {
      const prepayId = await kit.prepayIdOf(orderId);
      const res = await t.sandbox('POST', `/people/${m.personId}/pay`, { prepayId });
      if (res.status !== 200) throw new Error(`sandbox refused the payment: ${JSON.stringify(res.body)}`);
      const [row] = await sql("SELECT out_trade_no FROM payment_intent WHERE kind = 'store_order' AND key = $1", [orderId]);
      const delivery = wxpay
        .notifications()
        .find((d) => d.eventType === 'TRANSACTION.SUCCESS' && (d.resource as { out_trade_no?: string }).out_trade_no === row.out_trade_no);
      if (!delivery) throw new Error('the sandbox sent no payment notification');
      await wxpay.settled(delivery.id);
      return { transactionId: res.body.transactionId as string, notification: delivery.id };
    },
    sandboxOrder: (orderNo) => wxpay.queryOrder({ outTradeNo: kit.tradeNo(orderNo) }, wxpay.keys.mchid),
    refundsOf: (orderNo) => wxpay.snapshot().refunds.filter((r) => r.out_trade_no === kit.tradeNo(orderNo)),
    tradeNo: (orderNo) => `${STORE_TRADE_PREFIX}${orderNo}`,
    notify,
    async redeliver(notificationId) {
      const d = wxpay.notifications().find((n) => n.id === notificationId);
      if (!d) throw new Error(`no notification ${notificationId}`);
      const originalType = d.eventType.startsWith('REFUND') ? 'refund' : 'transaction';
      return notify(d.eventType, originalType, d.resource as object, d.id);
    },
    verifyPaymentSign(p) {
      return createVerify('RSA-SHA256').update(`${appid}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`).verify(wxpay.keys.merchantPublicKey, p.paySign, 'base64');
    },
  };
  return kit;
}
