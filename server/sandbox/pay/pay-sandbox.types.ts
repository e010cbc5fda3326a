import type { KeyObject } from 'node:crypto';
import type { TradeState, TransferState } from '../../wechat/pay/wxpay.types';

/** A WeChat Pay API error, answered as WeChat does: the HTTP status and `{code, message}`. */
export class WxApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface PaySandboxKeys {
  mchid: string;
  /** The merchant API certificate serial the sandbox accepts signatures under. */
  merchantSerialNo: string;
  merchantPublicKey: KeyObject;
  apiV3Key: string;
  /** The sandbox's WeChat Pay public key pair (PUB_KEY_ID_ mode). */
  wechatpayPublicKeyId: string;
  wechatpayPrivateKey: KeyObject;
  /** A platform certificate's key and serial, to sign the old way when asked. */
  platform?: { serial: string; privateKey: KeyObject };
}

export interface Order {
  appid: string;
  mchid: string;
  description: string;
  outTradeNo: string;
  notifyUrl: string;
  attach?: string;
  total: number;
  payerOpenid: string;
  expiresAt: number;
  prepayId: string;
  requestHash: string;
  state: TradeState;
  transactionId?: string;
  successTime?: string;
  refunded: number;
}

export interface Refund {
  refundId: string;
  outRefundNo: string;
  outTradeNo: string;
  transactionId: string;
  total: number;
  refund: number;
  reason?: string;
  notifyUrl?: string;
  status: 'PROCESSING' | 'SUCCESS';
  createTime: string;
  successTime?: string;
  /** When a PROCESSING refund succeeds (ms). */
  dueAt?: number;
}

export interface TransferBill {
  appid: string;
  outBillNo: string;
  transferBillNo: string;
  openid: string;
  amount: number;
  remark: string;
  notifyUrl?: string;
  packageInfo: string;
  state: TransferState;
  createTime: string;
  updateTime: string;
  failReason?: string;
  requestHash: string;
  /** When WeChat withdraws the bill if nobody has confirmed it (ms). */
  withdrawAt?: number;
}

export interface JsapiOrderInput {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  time_expire?: string;
  attach?: string;
  notify_url: string;
  amount: { total: number; currency?: string };
  payer: { openid: string };
}

export interface RefundInput {
  transaction_id?: string;
  out_trade_no?: string;
  out_refund_no: string;
  reason?: string;
  notify_url?: string;
  amount: { refund: number; total: number; currency: string };
}

export interface TransferInput {
  appid: string;
  out_bill_no: string;
  transfer_scene_id: string;
  openid: string;
  transfer_amount: number;
  transfer_remark: string;
  notify_url?: string;
  user_name?: string;
  transfer_scene_report_infos?: { info_type: string; info_content: string }[];
}
