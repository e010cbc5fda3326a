// 申请退款 as the server answers it (GET/POST /api/mp/orders/:id/after-sales): the shapes are the generated ones.
import type { AfterSale, AfterSaleStatus } from './api-types';
import { formatFen } from './money';

export type { AfterSale, AfterSaleStatus };

export interface AfterSaleView {
  id: string;
  statusText: string;
  amountText: string;
  reason: string;
  /** The merchant's reason when rejected. */
  noteText: string;
  open: boolean;
}

const STATUS_TEXT: Record<AfterSaleStatus, string> = {
  requested: '退款申请已提交，等待商家处理',
  rejected: '商家未同意退款',
  refunding: '商家已同意，退款中',
  refunded: '退款成功',
  failed: '退款未成功，请联系客服',
};

// The reasons the member picks from (the server takes any text up to 80 characters).
export const REFUND_REASONS = ['不想要了', '商品破损或有瑕疵', '发错货或漏发', '商品与描述不符', '其他'];

export function toAfterSaleView(a: AfterSale): AfterSaleView {
  return {
    id: a.id,
    statusText: STATUS_TEXT[a.status] ?? a.status,
    amountText: formatFen(a.amountFen, { symbol: true }),
    reason: a.reason,
    noteText: a.status === 'rejected' && a.merchantNote ? `原因：${a.merchantNote}` : '',
    open: a.status === 'requested' || a.status === 'refunding',
  };
}
