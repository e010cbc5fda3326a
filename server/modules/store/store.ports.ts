import type { Ctx } from '../../infra/db';

/**
 * What the points mall and the store need from outside their module, in their own terms.
 * app.ts plugs in the member ledger (points, tiers) and the WeChat Pay client here.
 */
export interface StorePoints {
  /** Adds points; the same idempotencyKey twice credits once. Returns the new balance. */
  credit(ctx: Ctx, memberId: string, points: number, idempotencyKey: string, reason: string): Promise<number>;
  /** Spends points; throws a conflict `insufficient_points` when short; idempotent by key. Returns the new balance. */
  debit(ctx: Ctx, memberId: string, points: number, idempotencyKey: string, reason: string): Promise<number>;
  /** Takes back points credited earlier (a refund), at most what the balance holds; idempotent by key. Returns the points taken. */
  clawback(ctx: Ctx, memberId: string, points: number, idempotencyKey: string, reason: string): Promise<number>;
  balance(ctx: Ctx, memberId: string): Promise<number>;
  /** The member's ledger, newest first; cursor is opaque. */
  history(ctx: Ctx, memberId: string, cursor: string | undefined, limit: number): Promise<PointsHistoryPage>;
}

export interface PointsHistoryPage {
  /** reason as written; kind and key (the idempotency key) say who wrote it: `order:<id>:award`, `mall:<id>`, … */
  items: Array<{ id: string; delta: number; reason: string; kind: string; key: string; createdAt: Date }>;
  nextCursor: string | null;
}

export interface MemberTier {
  code: string;
  /** Percent off list prices (0–100): 5 means members of this tier pay 95%. */
  discountPercent: number;
  freeShipping: boolean;
  /** Purchase points per yuan paid are multiplied by this (1 = base rate). */
  pointsMultiplier: number;
}

export interface MemberTiers {
  tierOf(ctx: Ctx, memberId: string): Promise<MemberTier>;
}

export interface PaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

/** WeChat as the store's shipping needs it; payments themselves go through the payments module. */
export interface StorePayments {
  /** /wxa/sec/order/upload_shipping_info: WeChat releases the money of physical goods once it knows they shipped. */
  uploadShipping(input: {
    transactionId?: string;
    outTradeNo: string;
    payerOpenid: string;
    company: string;
    trackingNo: string;
    itemDesc: string;
    receiverPhone: string;
  }): Promise<void>;
}
