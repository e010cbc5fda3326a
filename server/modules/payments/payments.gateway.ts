import type { RequestPaymentParams } from '../../wechat/pay/wxpay-crypto';
import type { WxPayClient } from '../../wechat/pay/wxpay.client';
import type { WxPayRefund, WxPayTransaction } from '../../wechat/pay/wxpay.types';

/** What the payments module asks of WeChat Pay: JSAPI orders, their query and close, refunds and their query. */
export interface PayGateway {
  prepay(p: { outTradeNo: string; description: string; amountFen: number; payerOpenid: string; expiresAt: Date }): Promise<{ prepayId: string }>;
  /** The signed parameters of wx.requestPayment for a prepay id. */
  paymentParams(prepayId: string): Omit<RequestPaymentParams, 'appId'>;
  /** WeChat's view of the order; null when WeChat has no such order (the prepay never reached it). */
  query(outTradeNo: string): Promise<WxPayTransaction | null>;
  /** Throws a conflict `wxpay_orderpaid` when the order was paid meanwhile. */
  close(outTradeNo: string): Promise<void>;
  /** The answer means "accepted" only: the outcome comes by notification or query. */
  refund(p: { outTradeNo: string; outRefundNo: string; refundFen: number; totalFen: number; reason: string }): Promise<WxPayRefund>;
  /** null when WeChat has no such refund (the request never reached it). */
  queryRefund(outRefundNo: string): Promise<WxPayRefund | null>;
}

const notFound = (err: unknown) => (err as { httpStatus?: number; statusCode?: number }).httpStatus === 404 || (err as { statusCode?: number }).statusCode === 404;

/** The gateway over the WeChat Pay client, for the mini-program's appid; every call fails when WeChat Pay is off. */
export function wxPayGateway(client: WxPayClient | null, appid: string): PayGateway {
  const c = () => {
    if (!client) throw new Error('WeChat Pay is not configured');
    return client;
  };
  return {
    async prepay(p) {
      const r = await c().jsapiPrepay({ appid, description: p.description, outTradeNo: p.outTradeNo, amountFen: p.amountFen, payerOpenid: p.payerOpenid, timeExpire: p.expiresAt });
      return { prepayId: r.prepayId };
    },
    paymentParams(prepayId) {
      const { appId: _appId, ...rest } = c().requestPaymentParams(appid, prepayId);
      return rest;
    },
    async query(outTradeNo) {
      try {
        return await c().queryByOutTradeNo(outTradeNo);
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    close: (outTradeNo) => c().close(outTradeNo),
    refund: (p) => c().refund({ outTradeNo: p.outTradeNo, outRefundNo: p.outRefundNo, refundFen: p.refundFen, totalFen: p.totalFen, reason: p.reason || undefined }),
    async queryRefund(outRefundNo) {
      try {
        return await c().queryRefund(outRefundNo);
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
  };
}
