import crypto from 'node:crypto';
import { conflict, forbidden, notFound } from '../../infra/errors';
import { randomNonce, rsaSign, unixSeconds, responseMessage, AUTH_SCHEME } from '../../wechat/pay/wxpay-crypto';
import type { WxPayRefund, WxPayTransaction, WxPayTransferBill } from '../../wechat/pay/wxpay.types';
import { WxApiError, type JsapiOrderInput, type Order, type PaySandboxKeys, type Refund, type RefundInput, type TransferBill, type TransferInput } from './pay-sandbox.types';
import { chinaIso, chinaStamp, PaySandboxNotifier, type NotificationDelivery } from './pay-sandbox-notifier';
import { memorySandboxState, type SandboxState } from '../sandbox-state';

export { WxApiError, type PaySandboxKeys } from './pay-sandbox.types';

/** What the sandbox's people call to pay and to accept a transfer (exposed as /sandbox/api/people/:id/…). */
export interface SandboxPayments {
  pay(prepayId: string, payerMpOpenid: string): Promise<{ transactionId: string }>;
  confirmTransfer(packageInfo: string, openid: string): Promise<void>;
}

export interface PaySandboxOptions {
  keys: PaySandboxKeys;
  /** 1 = WeChat's real timing; 0.001 makes the 15 s first retry 15 ms (tests). */
  timeScale?: number;
  /** How answers and notifications are signed; 'platform_certificate' needs keys.platform. */
  signWith?: 'public_key' | 'platform_certificate';
  /** Real seconds a refund stays PROCESSING before it succeeds (scaled); WeChat takes seconds to days. */
  refundSeconds?: number;
  onError?: (msg: string, err: unknown) => void;
  /** Where orders, refunds, transfer bills and notifications are kept across restarts; memory by default. */
  state?: SandboxState;
}

/** The kinds of record this sandbox keeps in the sandbox state. */
const KEPT = { order: 'wxpay.order', refund: 'wxpay.refund', bill: 'wxpay.bill' } as const;

const hash = (v: unknown) => crypto.createHash('sha256').update(JSON.stringify(v)).digest('hex');
const digits = (n: number) => Array.from(crypto.randomBytes(n), (b) => (b % 10).toString()).join('');

/**
 * WeChat Pay, simulated: JSAPI orders, refunds and merchant transfer bills with WeChat's states and error codes,
 * answers signed with the sandbox's own keys, and notifications delivered (and redelivered) to the merchant.
 * With a durable state everything is kept across restarts; `resume()` then takes up what was under way (refunds
 * processing, bills waiting, notifications to redeliver) where their clocks stand.
 */
export class PaySandbox implements SandboxPayments {
  readonly keys: PaySandboxKeys;
  signWith: 'public_key' | 'platform_certificate';
  readonly notifier: PaySandboxNotifier;
  private readonly timeScale: number;
  private readonly refundSeconds: number;
  private readonly orders = new Map<string, Order>();
  private readonly ordersByPrepay = new Map<string, Order>();
  private readonly ordersByTransaction = new Map<string, Order>();
  private readonly refunds = new Map<string, Refund>();
  private readonly bills = new Map<string, TransferBill>();
  private readonly billsByPackage = new Map<string, TransferBill>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly state: SandboxState;
  private resumed = false;

  constructor(opts: PaySandboxOptions) {
    this.keys = opts.keys;
    this.signWith = opts.signWith ?? 'public_key';
    this.timeScale = opts.timeScale ?? 1;
    this.refundSeconds = opts.refundSeconds ?? 3;
    this.state = opts.state ?? memorySandboxState();
    this.notifier = new PaySandboxNotifier({ apiV3Key: opts.keys.apiV3Key, signer: this, timeScale: this.timeScale, onError: opts.onError, state: this.state });
    this.restore();
  }

  /** Takes up, once, what was under way when the state was kept: call when the merchant can be reached. */
  resume(): void {
    if (this.resumed) return;
    this.resumed = true;
    const now = Date.now();
    for (const r of this.refunds.values()) {
      if (r.status === 'PROCESSING') this.later(() => this.completeRefund(r), Math.max(0, (r.dueAt ?? now) - now));
    }
    for (const b of this.bills.values()) {
      if (b.state === 'CANCELING') this.later(() => this.finishBill(b, 'CANCELLED', '商户撤销付款'), 0);
      else if (b.state === 'WAIT_USER_CONFIRM') this.later(() => this.finishBill(b, 'CANCELLED', '用户未在24小时内确认收款'), Math.max(0, (b.withdrawAt ?? now) - now));
    }
    this.notifier.resume();
  }

  private restore(): void {
    for (const [, o] of this.state.records<Order>(KEPT.order)) {
      this.orders.set(o.outTradeNo, o);
      this.ordersByPrepay.set(o.prepayId, o);
      if (o.transactionId) this.ordersByTransaction.set(o.transactionId, o);
    }
    for (const [, r] of this.state.records<Refund>(KEPT.refund)) this.refunds.set(r.outRefundNo, r);
    for (const [, b] of this.state.records<TransferBill>(KEPT.bill)) {
      this.bills.set(b.outBillNo, b);
      this.billsByPackage.set(b.packageInfo, b);
    }
  }

  private keepOrder(o: Order): void {
    this.state.changed(KEPT.order, o.outTradeNo, () => o);
  }

  private keepRefund(r: Refund): void {
    this.state.changed(KEPT.refund, r.outRefundNo, () => r);
  }

  private keepBill(b: TransferBill): void {
    this.state.changed(KEPT.bill, b.outBillNo, () => b);
  }

  /** Wechatpay-* headers over `timestamp\nnonce\nbody\n` with the key chosen by `signWith`. */
  sign(body: string): Record<string, string> {
    const timestamp = unixSeconds();
    const nonce = randomNonce();
    const platform = this.signWith === 'platform_certificate' ? this.keys.platform : undefined;
    if (this.signWith === 'platform_certificate' && !platform) throw new Error('sandbox has no platform certificate to sign with');
    const key = platform ? platform.privateKey : this.keys.wechatpayPrivateKey;
    return {
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': platform ? platform.serial : this.keys.wechatpayPublicKeyId,
      'Wechatpay-Signature': rsaSign(key, responseMessage(timestamp, nonce, body)),
      'Wechatpay-Signature-Type': AUTH_SCHEME,
    };
  }

  // ---- JSAPI orders ----------------------------------------------------------------------------------------

  createJsapiOrder(input: JsapiOrderInput): { prepay_id: string } {
    if (input.mchid !== this.keys.mchid) throw new WxApiError(400, 'MCH_NOT_EXISTS', '商户号不存在或与请求头不一致');
    checkNotifyUrl(input.notify_url);
    const expiresAt = input.time_expire ? Date.parse(input.time_expire) : Date.now() + 2 * 3600_000;
    if (Number.isNaN(expiresAt)) throw new WxApiError(400, 'PARAM_ERROR', 'time_expire 格式错误');
    const requestHash = hash({ ...input, time_expire: undefined });
    const existing = this.orders.get(input.out_trade_no);
    if (existing) {
      if (existing.state === 'SUCCESS' || existing.state === 'REFUND') throw new WxApiError(400, 'ORDERPAID', '该订单已支付');
      if (existing.state === 'CLOSED') throw new WxApiError(400, 'ORDER_CLOSED', '订单已关闭');
      if (existing.requestHash !== requestHash) throw new WxApiError(400, 'INVALID_REQUEST', '201 商户订单号重复');
      return { prepay_id: existing.prepayId };
    }
    const order: Order = {
      appid: input.appid,
      mchid: input.mchid,
      description: input.description,
      outTradeNo: input.out_trade_no,
      notifyUrl: input.notify_url,
      attach: input.attach,
      total: input.amount.total,
      payerOpenid: input.payer.openid,
      expiresAt,
      prepayId: `wx${chinaStamp(new Date())}${crypto.randomBytes(10).toString('hex')}`,
      requestHash,
      state: 'NOTPAY',
      refunded: 0,
    };
    this.orders.set(order.outTradeNo, order);
    this.ordersByPrepay.set(order.prepayId, order);
    this.keepOrder(order);
    return { prepay_id: order.prepayId };
  }

  queryOrder(by: { outTradeNo?: string; transactionId?: string }, mchid: string | undefined): WxPayTransaction {
    if (mchid !== this.keys.mchid) throw new WxApiError(400, 'PARAM_ERROR', 'mchid 与请求头不一致');
    const order = by.outTradeNo ? this.orders.get(by.outTradeNo) : this.ordersByTransaction.get(by.transactionId ?? '');
    if (!order) throw new WxApiError(404, 'ORDER_NOT_EXIST', '订单不存在');
    this.expireIfDue(order);
    return this.transactionView(order);
  }

  closeOrder(outTradeNo: string, mchid: string | undefined): void {
    if (mchid !== this.keys.mchid) throw new WxApiError(400, 'PARAM_ERROR', 'mchid 与请求头不一致');
    const order = this.orders.get(outTradeNo);
    if (!order) throw new WxApiError(404, 'ORDER_NOT_EXIST', '订单不存在');
    if (order.state === 'SUCCESS' || order.state === 'REFUND') throw new WxApiError(400, 'ORDERPAID', '订单已支付，不能关闭');
    order.state = 'CLOSED';
    this.keepOrder(order);
  }

  /** What the payment sheet shows before the person pays: the order's description and amount (null: no such prepay). */
  prepay(prepayId: string, payerMpOpenid: string): { description: string; totalFen: number } | null {
    const order = this.ordersByPrepay.get(prepayId);
    if (!order || order.payerOpenid !== payerMpOpenid) return null;
    return { description: order.description, totalFen: order.total };
  }

  /** A person pays the prepay in the payment sheet; WeChat then notifies TRANSACTION.SUCCESS. */
  async pay(prepayId: string, payerMpOpenid: string): Promise<{ transactionId: string }> {
    const order = this.ordersByPrepay.get(prepayId);
    if (!order) throw notFound('sandbox_prepay_not_found', 'No order has this prepay id');
    this.expireIfDue(order);
    if (order.payerOpenid !== payerMpOpenid) throw forbidden('sandbox_pay_wrong_payer', 'This order was placed for another WeChat user');
    if (order.state === 'SUCCESS' || order.state === 'REFUND') throw conflict('sandbox_order_paid', 'This order is already paid');
    if (order.state !== 'NOTPAY') throw conflict('sandbox_order_closed', 'This order is closed or expired');
    order.state = 'SUCCESS';
    order.transactionId = `42000${digits(23)}`;
    order.successTime = chinaIso(new Date());
    this.ordersByTransaction.set(order.transactionId, order);
    this.keepOrder(order);
    this.notifier.notify({
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      notifyUrl: order.notifyUrl,
      resource: this.transactionView(order),
    });
    return { transactionId: order.transactionId };
  }

  private expireIfDue(order: Order): void {
    if (order.state !== 'NOTPAY' || Date.now() <= order.expiresAt) return;
    order.state = 'CLOSED';
    this.keepOrder(order);
  }

  private transactionView(o: Order): WxPayTransaction {
    const paid = o.state === 'SUCCESS' || o.state === 'REFUND';
    return {
      appid: o.appid,
      mchid: o.mchid,
      out_trade_no: o.outTradeNo,
      ...(paid ? { transaction_id: o.transactionId, trade_type: 'JSAPI', bank_type: 'OTHERS', success_time: o.successTime } : {}),
      trade_state: o.state,
      trade_state_desc: { SUCCESS: '支付成功', REFUND: '转入退款', NOTPAY: '未支付', CLOSED: '已关闭', REVOKED: '已撤销', USERPAYING: '用户支付中', PAYERROR: '支付失败' }[o.state],
      ...(o.attach !== undefined ? { attach: o.attach } : {}),
      payer: { openid: o.payerOpenid },
      amount: paid ? { total: o.total, payer_total: o.total, currency: 'CNY', payer_currency: 'CNY' } : { total: o.total, currency: 'CNY' },
    };
  }

  // ---- Refunds --------------------------------------------------------------------------------------------

  createRefund(input: RefundInput): WxPayRefund {
    const order = input.transaction_id ? this.ordersByTransaction.get(input.transaction_id) : this.orders.get(input.out_trade_no ?? '');
    if (!order) throw new WxApiError(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    if (order.state !== 'SUCCESS' && order.state !== 'REFUND') throw new WxApiError(400, 'INVALID_REQUEST', '订单未支付，不能退款');
    if (input.notify_url !== undefined) checkNotifyUrl(input.notify_url);
    const existing = this.refunds.get(input.out_refund_no);
    if (existing) {
      if (existing.outTradeNo !== order.outTradeNo || existing.refund !== input.amount.refund) {
        throw new WxApiError(400, 'INVALID_REQUEST', '商户退款单号已被使用，且请求参数与之前不一致');
      }
      return this.refundView(existing);
    }
    if (input.amount.total !== order.total) throw new WxApiError(400, 'INVALID_REQUEST', '订单金额与原订单不一致');
    if (input.amount.refund > order.total - order.refunded) throw new WxApiError(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
    order.refunded += input.amount.refund;
    order.state = 'REFUND';
    const refund: Refund = {
      refundId: `503000${digits(23)}`,
      outRefundNo: input.out_refund_no,
      outTradeNo: order.outTradeNo,
      transactionId: order.transactionId!,
      total: order.total,
      refund: input.amount.refund,
      reason: input.reason,
      notifyUrl: input.notify_url,
      status: 'PROCESSING',
      createTime: chinaIso(new Date()),
      dueAt: Date.now() + this.refundSeconds * 1000 * this.timeScale,
    };
    const due = refund.dueAt! - Date.now();
    this.refunds.set(refund.outRefundNo, refund);
    this.keepOrder(order);
    this.keepRefund(refund);
    this.later(() => this.completeRefund(refund), due);
    return this.refundView(refund);
  }

  queryRefund(outRefundNo: string): WxPayRefund {
    const refund = this.refunds.get(outRefundNo);
    if (!refund) throw new WxApiError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    return this.refundView(refund);
  }

  private completeRefund(r: Refund): void {
    if (r.status !== 'PROCESSING') return;
    r.status = 'SUCCESS';
    r.successTime = chinaIso(new Date());
    delete r.dueAt;
    this.keepRefund(r);
    if (!r.notifyUrl) return;
    this.notifier.notify({
      eventType: 'REFUND.SUCCESS',
      summary: '退款成功',
      originalType: 'refund',
      notifyUrl: r.notifyUrl,
      resource: {
        mchid: this.keys.mchid,
        out_trade_no: r.outTradeNo,
        transaction_id: r.transactionId,
        out_refund_no: r.outRefundNo,
        refund_id: r.refundId,
        refund_status: 'SUCCESS',
        success_time: r.successTime,
        user_received_account: '支付用户零钱',
        amount: { total: r.total, refund: r.refund, payer_total: r.total, payer_refund: r.refund },
      },
    });
  }

  private refundView(r: Refund): WxPayRefund {
    return {
      refund_id: r.refundId,
      out_refund_no: r.outRefundNo,
      transaction_id: r.transactionId,
      out_trade_no: r.outTradeNo,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      ...(r.successTime ? { success_time: r.successTime } : {}),
      create_time: r.createTime,
      status: r.status,
      amount: { total: r.total, refund: r.refund, payer_total: r.total, payer_refund: r.refund, currency: 'CNY' },
    };
  }

  // ---- Merchant transfer bills (商家转账) ---------------------------------------------------------------------

  createTransferBill(input: TransferInput): WxPayTransferBill {
    if (input.notify_url !== undefined) checkNotifyUrl(input.notify_url);
    if (input.transfer_amount < 10) throw new WxApiError(400, 'INVALID_REQUEST', '超过单笔转账上下限，核实产品设置是否准确'); // 0.1 yuan minimum
    if (input.transfer_amount >= 200_000 && !input.user_name) throw new WxApiError(400, 'PARAM_ERROR', '转账金额≥2000元时须填写收款用户姓名');
    if (input.transfer_scene_id === '1000') {
      const types = new Set((input.transfer_scene_report_infos ?? []).map((i) => i.info_type));
      if (!types.has('活动名称') || !types.has('奖励说明')) {
        throw new WxApiError(400, 'PARAM_ERROR', '现金营销场景须报备“活动名称”和“奖励说明”');
      }
    }
    const requestHash = hash(input);
    const existing = this.bills.get(input.out_bill_no);
    if (existing) {
      if (existing.requestHash !== requestHash) throw new WxApiError(400, 'INVALID_REQUEST', '商户单号已存在，且请求参数与之前不一致');
      return this.billCreatedView(existing);
    }
    const now = chinaIso(new Date());
    const bill: TransferBill = {
      appid: input.appid,
      outBillNo: input.out_bill_no,
      transferBillNo: `1330000${chinaStamp(new Date())}${digits(19)}`,
      openid: input.openid,
      amount: input.transfer_amount,
      remark: input.transfer_remark,
      notifyUrl: input.notify_url,
      packageInfo: crypto.randomBytes(48).toString('base64'),
      state: 'WAIT_USER_CONFIRM',
      createTime: now,
      updateTime: now,
      requestHash,
      // WeChat withdraws bills nobody confirms within 24 hours.
      withdrawAt: Date.now() + 24 * 3600_000 * this.timeScale,
    };
    this.bills.set(bill.outBillNo, bill);
    this.billsByPackage.set(bill.packageInfo, bill);
    this.keepBill(bill);
    this.later(() => this.finishBill(bill, 'CANCELLED', '用户未在24小时内确认收款'), bill.withdrawAt! - Date.now());
    return this.billCreatedView(bill);
  }

  queryTransferBill(outBillNo: string): WxPayTransferBill {
    const bill = this.bills.get(outBillNo);
    if (!bill) throw new WxApiError(404, 'NOT_FOUND', '记录不存在');
    return {
      mch_id: this.keys.mchid,
      out_bill_no: bill.outBillNo,
      transfer_bill_no: bill.transferBillNo,
      appid: bill.appid,
      state: bill.state,
      transfer_amount: bill.amount,
      transfer_remark: bill.remark,
      ...(bill.failReason ? { fail_reason: bill.failReason } : {}),
      openid: bill.openid,
      create_time: bill.createTime,
      update_time: bill.updateTime,
    };
  }

  cancelTransferBill(outBillNo: string): { out_bill_no: string; transfer_bill_no: string; state: string; update_time: string } {
    const bill = this.bills.get(outBillNo);
    if (!bill) throw new WxApiError(404, 'NOT_FOUND', '记录不存在');
    if (bill.state !== 'WAIT_USER_CONFIRM' && bill.state !== 'ACCEPTED' && bill.state !== 'CANCELING') {
      throw new WxApiError(400, 'INVALID_REQUEST', '当前状态不可撤销');
    }
    bill.state = 'CANCELING';
    bill.updateTime = chinaIso(new Date());
    this.keepBill(bill);
    this.later(() => this.finishBill(bill, 'CANCELLED', '商户撤销付款'), 0);
    return { out_bill_no: bill.outBillNo, transfer_bill_no: bill.transferBillNo, state: bill.state, update_time: bill.updateTime };
  }

  /** A person accepts the transfer in the mini-program (wx.requestMerchantTransfer). */
  async confirmTransfer(packageInfo: string, openid: string): Promise<void> {
    const bill = this.billsByPackage.get(packageInfo);
    if (!bill) throw notFound('sandbox_transfer_not_found', 'No transfer has this package_info');
    if (bill.openid !== openid) throw forbidden('sandbox_transfer_wrong_person', 'This transfer is for another WeChat user');
    if (bill.state !== 'WAIT_USER_CONFIRM') throw conflict('sandbox_transfer_not_waiting', `This transfer is ${bill.state}, not waiting for confirmation`);
    this.finishBill(bill, 'SUCCESS');
  }

  private finishBill(bill: TransferBill, state: 'SUCCESS' | 'FAIL' | 'CANCELLED', failReason?: string): void {
    if (bill.state === 'SUCCESS' || bill.state === 'FAIL' || bill.state === 'CANCELLED') return;
    if (state === 'CANCELLED' && bill.state !== 'WAIT_USER_CONFIRM' && bill.state !== 'CANCELING') return;
    bill.state = state;
    bill.updateTime = chinaIso(new Date());
    if (failReason && state !== 'SUCCESS') bill.failReason = failReason;
    delete bill.withdrawAt;
    this.keepBill(bill);
    if (!bill.notifyUrl) return;
    this.notifier.notify({
      eventType: 'MCHTRANSFER.BILL.FINISHED',
      summary: '商家转账单据终态通知',
      originalType: 'mch_payment',
      notifyUrl: bill.notifyUrl,
      resource: {
        out_bill_no: bill.outBillNo,
        transfer_bill_no: bill.transferBillNo,
        state: bill.state,
        mch_id: this.keys.mchid,
        transfer_amount: bill.amount,
        openid: bill.openid,
        ...(bill.failReason ? { fail_reason: bill.failReason } : {}),
        create_time: bill.createTime,
        update_time: bill.updateTime,
      },
    });
  }

  private billCreatedView(b: TransferBill): WxPayTransferBill {
    return {
      out_bill_no: b.outBillNo,
      transfer_bill_no: b.transferBillNo,
      create_time: b.createTime,
      state: b.state,
      ...(b.state === 'WAIT_USER_CONFIRM' ? { package_info: b.packageInfo } : {}),
    };
  }

  // ---- Inspection and lifecycle ---------------------------------------------------------------------------

  notifications(): NotificationDelivery[] {
    return this.notifier.list();
  }

  /** Everything the sandbox holds, newest last: for the sandbox web page and for debugging a journey. */
  snapshot() {
    return {
      mchid: this.keys.mchid,
      signWith: this.signWith,
      orders: [...this.orders.values()].map((o) => this.transactionView(o)),
      refunds: [...this.refunds.values()].map((r) => this.refundView(r)),
      transferBills: [...this.bills.values()].map((b) => this.queryTransferBill(b.outBillNo)),
      notifications: this.notifier.list().map((d) => ({ id: d.id, eventType: d.eventType, state: d.state, attempts: d.attempts })),
    };
  }

  /** Loses the next `count` notifications (of one event type and order, or any): they are listed as dropped, never sent. */
  dropNotifications(count: number, filter: { eventType?: string; outTradeNo?: string } = {}): void {
    this.notifier.drop(count, filter);
  }

  /** Resolves when a notification is acknowledged by the merchant or abandoned after the last retry. */
  settled(notificationId: string): Promise<NotificationDelivery> {
    return this.notifier.settled(notificationId);
  }

  close(): void {
    this.notifier.close();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }
}

/** WeChat wants an absolute URL without a query; the sandbox also accepts http (it runs on a laptop). */
function checkNotifyUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WxApiError(400, 'PARAM_ERROR', 'notify_url 格式错误');
  }
  if (!['http:', 'https:'].includes(u.protocol) || u.search !== '') throw new WxApiError(400, 'PARAM_ERROR', 'notify_url 须为不带参数的 http(s) 地址');
}
