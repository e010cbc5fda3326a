/** Shapes WeChat Pay APIv3 returns and notifies (field names as WeChat spells them; money in fen). */

export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';

export interface WxPayTransaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_type?: string;
  trade_state: TradeState;
  trade_state_desc: string;
  bank_type?: string;
  attach?: string;
  success_time?: string;
  payer?: { openid: string };
  amount?: { total: number; payer_total?: number; currency: string; payer_currency?: string };
}

export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';

export interface WxPayRefund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel?: string;
  user_received_account?: string;
  success_time?: string;
  create_time: string;
  status: RefundStatus;
  amount: { total: number; refund: number; payer_total?: number; payer_refund?: number; currency: string };
}

/** The body of a REFUND.* notification (its status field is `refund_status`). */
export interface WxPayRefundNotice {
  mchid: string;
  out_trade_no: string;
  transaction_id: string;
  out_refund_no: string;
  refund_id: string;
  refund_status: RefundStatus;
  success_time?: string;
  user_received_account?: string;
  amount: { total: number; refund: number; payer_total: number; payer_refund: number };
}

export type TransferState =
  | 'ACCEPTED'
  | 'PROCESSING'
  | 'WAIT_USER_CONFIRM'
  | 'TRANSFERING'
  | 'SUCCESS'
  | 'FAIL'
  | 'CANCELING'
  | 'CANCELLED';

export interface WxPayTransferBill {
  mch_id?: string;
  out_bill_no: string;
  transfer_bill_no: string;
  appid?: string;
  state: TransferState;
  transfer_amount?: number;
  transfer_remark?: string;
  fail_reason?: string;
  openid?: string;
  create_time: string;
  update_time?: string;
  package_info?: string;
}

/** The decrypted resource of each notification kind, by event_type. */
export interface WxPayEventResources {
  'TRANSACTION.SUCCESS': WxPayTransaction;
  'REFUND.SUCCESS': WxPayRefundNotice;
  'REFUND.ABNORMAL': WxPayRefundNotice;
  'REFUND.CLOSED': WxPayRefundNotice;
  'MCHTRANSFER.BILL.FINISHED': WxPayTransferBill;
}

export type WxPayEventType = keyof WxPayEventResources;

/** The envelope WeChat posts to notify_url. */
export interface WxPayNotificationEnvelope {
  id: string;
  create_time: string;
  event_type: string;
  resource_type: string;
  summary?: string;
  resource: { algorithm: string; ciphertext: string; associated_data?: string; nonce: string; original_type?: string };
}
