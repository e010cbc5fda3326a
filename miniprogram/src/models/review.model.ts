import type { ReviewClaim, TransferPackage } from './api-types';
import { formatFen } from './money';

export type { ReviewClaim, TransferPackage };

// The review reward is for an honest review of any rating: no text here mentions the rating.
export type ClaimStatus = ReviewClaim['status'];

export interface ClaimView {
  id: string;
  orderNo: string;
  rewardText: string;
  statusText: string;
  note: string;
  canConfirm: boolean;
}

const STATUS_TEXT: Record<ClaimStatus, string> = {
  submitted: '审核中',
  rejected: '未通过',
  approved: '已通过，发放中',
  transfer_pending: '待确认收款',
  paid: '已到账',
  transfer_failed: '发放失败，商家处理中',
  points_awarded: '积分已到账',
};

export function toClaimView(c: ReviewClaim): ClaimView {
  return {
    id: c.id,
    orderNo: c.orderNo,
    rewardText: c.rewardKind === 'cash' ? `${formatFen(c.amountFen)} 现金` : `${c.points} 积分`,
    statusText: STATUS_TEXT[c.status] ?? c.status,
    note: c.status === 'rejected' && c.rejectReason ? c.rejectReason : '',
    canConfirm: c.status === 'transfer_pending',
  };
}

// 18–19 digits, as the server checks; an empty string when it is fine.
export function validateClaim(orderNo: string, screenshotPath: string): string {
  if (!/^\d{18,19}$/.test(orderNo)) return '请输入 18–19 位淘宝订单号';
  if (!screenshotPath) return '请上传评价截图';
  return '';
}
