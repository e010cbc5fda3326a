import crypto, { type KeyObject } from 'node:crypto';
import WxPay from 'wechatpay-node-v3';
import { randomNonce, requestPaymentMessage, rsaSign, unixSeconds, type RequestPaymentParams } from './wxpay-crypto';
import { WxPayError } from './wxpay-errors';
import { WECHATPAY_HOST, WxPayHttp } from './wxpay-http';
import type { WxPayVerifier } from './wxpay-keys';
import type { WxPayRefund, WxPayTransaction, WxPayTransferBill } from './wxpay.types';

export interface WxPayClientOptions {
  mchid: string;
  /** Serial number of the merchant API certificate (names the key WeChat checks our signatures with). */
  serialNo: string;
  privateKey: KeyObject;
  apiBase: string;
  verifier: WxPayVerifier;
  /** Where WeChat posts results: PUBLIC_URL + /wechatpay/notify (https, no query, in production). */
  notifyUrl: string;
  timeoutMs?: number;
}

// WeChat's charset for merchant numbers (out_trade_no, out_refund_no, out_bill_no).
const MERCHANT_NO = /^[0-9A-Za-z_\-|*]+$/;

// Transfer bill numbers are stricter: digits and letters only.
const BILL_NO = /^[0-9A-Za-z]+$/;

function checkNo(value: string, field: string, min = 6, max = 32, charset = MERCHANT_NO): void {
  if (!charset.test(value) || value.length < min || value.length > max) {
    const chars = charset === BILL_NO ? '0-9 A-Z a-z' : '0-9 A-Z a-z _ - | *';
    throw new WxPayError('invalid', 'wxpay_bad_merchant_no', `${field} must be ${min}–${max} of ${chars}`);
  }
}

function checkFen(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new WxPayError('invalid', 'wxpay_bad_amount', `${field} must be a positive integer number of fen`);
}

/** RFC 3339 in China time, as WeChat writes and expects times (e.g. time_expire). */
export function chinaTime(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');
}

/**
 * The merchant side of WeChat Pay APIv3. Calls wechatpay-node-v3 where it has the API (JSAPI, query, close,
 * refunds), with its HTTP replaced by WxPayHttp so the base URL is configurable and every answer is verified;
 * merchant transfer bills, which the library predates, are signed with the library's own signer.
 */
export class WxPayClient {
  private readonly lib: WxPay;
  private readonly http: WxPayHttp;

  constructor(private readonly opts: WxPayClientOptions) {
    const privatePem = Buffer.from(opts.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const publicPem = Buffer.from(crypto.createPublicKey(opts.privateKey).export({ type: 'spki', format: 'pem' }) as string);
    // The library wants an appid up front; every call here names its own (mini-program or Official Account).
    this.lib = new WxPay({
      appid: '',
      mchid: opts.mchid,
      serial_no: opts.serialNo,
      publicKey: publicPem,
      privateKey: privatePem,
      userAgent: 'Snowball/0.1 (wechatpay-node-v3)',
    });
    this.http = new WxPayHttp({ apiBase: opts.apiBase, verifier: opts.verifier, timeoutMs: opts.timeoutMs });
    this.lib.createHttp(this.http);
  }

  get mchid(): string {
    return this.opts.mchid;
  }

  get notifyUrl(): string {
    return this.opts.notifyUrl;
  }

  /** `POST /v3/pay/transactions/jsapi` → the prepay id and the signed parameters for `wx.requestPayment`. */
  async jsapiPrepay(p: {
    appid: string;
    description: string;
    outTradeNo: string;
    amountFen: number;
    payerOpenid: string;
    timeExpire?: Date;
    attach?: string;
  }): Promise<{ prepayId: string; requestPayment: RequestPaymentParams }> {
    checkNo(p.outTradeNo, 'out_trade_no');
    checkFen(p.amountFen, 'amount');
    if (p.description.length < 1 || p.description.length > 127) throw new WxPayError('invalid', 'wxpay_bad_description', 'description must be 1–127 characters');
    if (p.attach !== undefined && p.attach.length > 128) throw new WxPayError('invalid', 'wxpay_bad_attach', 'attach must be at most 128 characters');
    const res = await this.lib.transactions_jsapi({
      appid: p.appid,
      mchid: this.opts.mchid,
      description: p.description,
      out_trade_no: p.outTradeNo,
      ...(p.timeExpire ? { time_expire: chinaTime(p.timeExpire) } : {}),
      ...(p.attach !== undefined ? { attach: p.attach } : {}),
      notify_url: this.opts.notifyUrl,
      amount: { total: p.amountFen, currency: 'CNY' },
      payer: { openid: p.payerOpenid },
    });
    const pkg: unknown = res.data?.package;
    if (typeof pkg !== 'string' || !pkg.startsWith('prepay_id=')) {
      throw new WxPayError('unavailable', 'wxpay_no_prepay_id', 'WeChat Pay answered the JSAPI order without a prepay_id');
    }
    const prepayId = pkg.slice('prepay_id='.length);
    // Signed here rather than by the library: a crypto-random nonce and the exact appid of this order.
    return { prepayId, requestPayment: this.requestPaymentParams(p.appid, prepayId) };
  }

  /** The `wx.requestPayment` parameters for a prepay id (again, e.g. when the buyer retries the payment sheet). */
  requestPaymentParams(appid: string, prepayId: string): RequestPaymentParams {
    const timeStamp = unixSeconds();
    const nonceStr = randomNonce();
    const pkg = `prepay_id=${prepayId}`;
    return { appId: appid, timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign: rsaSign(this.opts.privateKey, requestPaymentMessage(appid, timeStamp, nonceStr, pkg)) };
  }

  async queryByOutTradeNo(outTradeNo: string): Promise<WxPayTransaction> {
    checkNo(outTradeNo, 'out_trade_no');
    return (await this.lib.query({ out_trade_no: outTradeNo })).data as WxPayTransaction;
  }

  async queryByTransactionId(transactionId: string): Promise<WxPayTransaction> {
    if (!/^\d{1,32}$/.test(transactionId)) throw new WxPayError('invalid', 'wxpay_bad_transaction_id', 'transaction_id is digits');
    return (await this.lib.query({ transaction_id: transactionId })).data as WxPayTransaction;
  }

  /** Closes an unpaid order (WeChat answers 204); a paid one fails with wxpay_orderpaid. */
  async close(outTradeNo: string): Promise<void> {
    checkNo(outTradeNo, 'out_trade_no');
    await this.lib.close(outTradeNo);
  }

  /** `POST /v3/refund/domestic/refunds`; the same out_refund_no is the same refund (retry-safe). */
  async refund(p: {
    outTradeNo?: string;
    transactionId?: string;
    outRefundNo: string;
    refundFen: number;
    totalFen: number;
    reason?: string;
  }): Promise<WxPayRefund> {
    checkNo(p.outRefundNo, 'out_refund_no', 1, 64);
    checkFen(p.refundFen, 'refund');
    checkFen(p.totalFen, 'total');
    if (p.refundFen > p.totalFen) throw new WxPayError('invalid', 'wxpay_bad_amount', 'refund exceeds the order total');
    if (!p.outTradeNo && !p.transactionId) throw new WxPayError('invalid', 'wxpay_no_order', 'name the order by out_trade_no or transaction_id');
    const common = {
      out_refund_no: p.outRefundNo,
      ...(p.reason ? { reason: p.reason.slice(0, 80) } : {}),
      notify_url: this.opts.notifyUrl,
      amount: { refund: p.refundFen, total: p.totalFen, currency: 'CNY' },
    };
    const res = p.transactionId
      ? await this.lib.refunds({ transaction_id: p.transactionId, ...common })
      : await this.lib.refunds({ out_trade_no: p.outTradeNo!, ...common });
    return res.data as WxPayRefund;
  }

  async queryRefund(outRefundNo: string): Promise<WxPayRefund> {
    checkNo(outRefundNo, 'out_refund_no', 1, 64);
    return (await this.lib.find_refunds(outRefundNo)).data as WxPayRefund;
  }

  /**
   * 商家转账 `POST /v3/fund-app/mch-transfer/transfer-bills`: answers WAIT_USER_CONFIRM and the package_info the
   * buyer confirms with `wx.requestMerchantTransfer`. Retry only with the same out_bill_no.
   */
  async createTransferBill(p: {
    appid: string;
    outBillNo: string;
    openid: string;
    amountFen: number;
    remark: string;
    sceneId?: string;
    sceneReportInfos?: { info_type: string; info_content: string }[];
    userRecvPerception?: string;
  }): Promise<WxPayTransferBill> {
    checkNo(p.outBillNo, 'out_bill_no', 5, 32, BILL_NO);
    checkFen(p.amountFen, 'transfer_amount');
    if (p.remark.length < 1 || p.remark.length > 32) throw new WxPayError('invalid', 'wxpay_bad_remark', 'transfer_remark must be 1–32 characters');
    const sceneId = p.sceneId ?? '1000';
    const body = {
      appid: p.appid,
      out_bill_no: p.outBillNo,
      transfer_scene_id: sceneId,
      openid: p.openid,
      transfer_amount: p.amountFen,
      transfer_remark: p.remark,
      notify_url: this.opts.notifyUrl,
      ...(p.userRecvPerception ? { user_recv_perception: p.userRecvPerception } : {}),
      // Scene 1000 (cash marketing) requires the activity name and the reward description.
      transfer_scene_report_infos: p.sceneReportInfos ?? [
        { info_type: '活动名称', info_content: '评价有礼' },
        { info_type: '奖励说明', info_content: p.remark },
      ],
    };
    const res = await this.signed('POST', '/v3/fund-app/mch-transfer/transfer-bills', body);
    return res as WxPayTransferBill;
  }

  async queryTransferBill(outBillNo: string): Promise<WxPayTransferBill> {
    checkNo(outBillNo, 'out_bill_no', 5, 32, BILL_NO);
    return (await this.signed('GET', `/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/${outBillNo}`)) as WxPayTransferBill;
  }

  /** Withdraws a bill the buyer has not confirmed yet (CANCELING, then CANCELLED by notification). */
  async cancelTransferBill(outBillNo: string): Promise<{ out_bill_no: string; transfer_bill_no: string; state: string; update_time: string }> {
    checkNo(outBillNo, 'out_bill_no', 5, 32, BILL_NO);
    return (await this.signed('POST', `/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/${outBillNo}/cancel`, {})) as {
      out_bill_no: string;
      transfer_bill_no: string;
      state: string;
      update_time: string;
    };
  }

  /** A signed call the library has no method for, through the same verified HTTP. */
  private async signed(method: 'GET' | 'POST', path: string, body?: object): Promise<unknown> {
    const nonce = randomNonce();
    const timestamp = unixSeconds();
    const text = body === undefined ? undefined : JSON.stringify(body);
    const signature = this.lib.getSignature(method, nonce, timestamp, path, text ?? '');
    const authorization = this.lib.getAuthorization(nonce, timestamp, signature);
    const headers = { Accept: 'application/json', 'User-Agent': 'Snowball/0.1 (wechatpay-node-v3)', Authorization: authorization };
    const res = await this.http.send(method, `${WECHATPAY_HOST}${path}`, text, headers);
    return res.text ? JSON.parse(res.text) : undefined;
  }
}
