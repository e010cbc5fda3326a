import { unavailable } from '../infra/errors';
import { WechatApiClient } from './api-client';

export interface MiniProgramSession {
  openid: string;
  /** Stays on the server: it decrypts what the mini-program sends (phone number …). */
  sessionKey: string;
  /** Present when the mini-program and the Official Account share an Open Platform account. */
  unionid?: string;
}

/** The mini-program API Snowball uses. */
export class MiniProgramApi extends WechatApiClient {
  /** wx.login's code → the member's openid (a code works once: 40163 on reuse, 40029 when invalid). */
  async code2session(code: string): Promise<MiniProgramSession> {
    const r = (await this.api.code2Session(encodeURIComponent(code))) as { openid?: string; session_key?: string; unionid?: string };
    if (!r.openid || !r.session_key) throw unavailable('wechat_bad_answer', 'jscode2session answered without openid');
    return { openid: r.openid, sessionKey: r.session_key, unionid: r.unionid };
  }

  /** A subscription message the member accepted in the mini-program (43101 when not, or already used). */
  async sendSubscribeMessage(msg: { touser: string; templateId: string; page?: string; data: Record<string, { value: string }> }): Promise<void> {
    await this.api.sendSubscribeMessage(msg.touser, msg.templateId, msg.page, msg.data);
  }

  /**
   * Shipping information of a mini-program payment for physical goods: until WeChat has it, WeChat holds the money.
   * Identified by the transaction id, or by mchid + out_trade_no.
   */
  async uploadShippingInfo(s: {
    order: { transactionId: string } | { mchid: string; outTradeNo: string };
    payerOpenid: string;
    parcels: Array<{ trackingNo: string; expressCompany: string; itemDesc: string; receiverContact?: string }>;
  }): Promise<void> {
    const orderKey =
      'transactionId' in s.order
        ? { order_number_type: 2, transaction_id: s.order.transactionId }
        : { order_number_type: 1, mchid: s.order.mchid, out_trade_no: s.order.outTradeNo };
    await this.post(
      'sec/order/upload_shipping_info',
      {
        order_key: orderKey,
        logistics_type: 1,
        delivery_mode: s.parcels.length > 1 ? 2 : 1,
        is_all_delivered: true,
        shipping_list: s.parcels.map((p) => ({
          tracking_no: p.trackingNo,
          express_company: p.expressCompany,
          item_desc: p.itemDesc.slice(0, 120),
          ...(p.receiverContact ? { contact: { receiver_contact: p.receiverContact } } : {}),
        })),
        upload_time: new Date().toISOString().replace('Z', '+00:00'),
        payer: { openid: s.payerOpenid },
      },
      'wxa',
    );
  }

  /** An unlimited mini-program code (PNG) carrying `scene` (≤ 32 visible characters) to `page`. */
  async unlimitedWxaCode(scene: string, page?: string, width = 430): Promise<Buffer> {
    const r = await this.api.getWXACodeUnlimit(scene, page, width);
    if (!Buffer.isBuffer(r)) throw unavailable('wechat_bad_answer', 'getwxacodeunlimit answered without an image');
    return r;
  }
}
