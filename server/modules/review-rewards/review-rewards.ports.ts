import type { Ctx } from '../../infra/db';

/** What the review reward needs from the member ledger, the points ledger and WeChat, in its own terms. */
export interface ClaimableOrder {
  channelId: string;
  orderNo: string;
  /** The order reached 交易成功 (buyer confirmed receipt). */
  completed: boolean;
}

export interface RewardMembers {
  /** The order if it is bound to this member; null when it is not theirs (or unknown). */
  orderOfMember(ctx: Ctx, memberId: string, orderNo: string): Promise<ClaimableOrder | null>;
  mpOpenidOf(ctx: Ctx, memberId: string): Promise<string | null>;
  /** Credits points once per idempotency key. */
  awardPoints(ctx: Ctx, memberId: string, points: number, idempotencyKey: string, reason: string): Promise<void>;
}

export type TransferState = 'WAIT_USER_CONFIRM' | 'TRANSFERING' | 'SUCCESS' | 'FAIL' | 'CANCELLED' | 'ACCEPTED' | 'PROCESSING' | string;

export interface MerchantTransfers {
  /** 商家转账: creates the bill the member confirms in the mini-program (`package_info`). */
  createTransfer(req: { outBillNo: string; openid: string; amountFen: number; remark: string }): Promise<{
    transferBillNo: string;
    state: TransferState;
    packageInfo?: string;
  }>;
  queryTransfer(outBillNo: string): Promise<{ state: TransferState; failReason?: string } | null>;
}

export interface MemberNotifier {
  /** Tells the member an outcome (customer-service or template message); failures are logged, not thrown. */
  notify(ctx: Ctx, memberId: string, text: string): Promise<void>;
}
