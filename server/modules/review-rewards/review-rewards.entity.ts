import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

const bigintNumber = { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

/**
 * A review-reward campaign (评价有礼). Deliberately without any rating field: the reward is for an honest review of
 * any rating, as China's 2024 anti-unfair-competition rules require.
 */
@Entity('review_campaign')
export class ReviewCampaign {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'reward_kind', type: 'text' })
  rewardKind!: 'cash' | 'points';

  @Column({ name: 'amount_fen', type: 'integer' })
  amountFen!: number;

  @Column({ type: 'integer' })
  points!: number;

  @Column({ name: 'starts_at', type: 'timestamptz' })
  startsAt!: Date;

  @Column({ name: 'ends_at', type: 'timestamptz' })
  endsAt!: Date;

  @Column({ name: 'daily_budget_fen', type: 'bigint', nullable: true, transformer: bigintNumber })
  dailyBudgetFen!: number | null;

  @Column({ name: 'transfer_remark', type: 'text' })
  transferRemark!: string;

  @Column({ type: 'boolean' })
  active!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

export const CLAIM_STATES = ['submitted', 'rejected', 'approved', 'transfer_pending', 'paid', 'transfer_failed', 'points_awarded'] as const;
export type ClaimState = (typeof CLAIM_STATES)[number];

@Entity('review_claim')
export class ReviewClaim {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'campaign_id', type: 'uuid' })
  campaignId!: string;

  @Column({ name: 'member_id', type: 'uuid' })
  memberId!: string;

  @Column({ name: 'channel_id', type: 'text' })
  channelId!: string;

  @Column({ name: 'order_no', type: 'text' })
  orderNo!: string;

  @Column({ name: 'screenshot_path', type: 'text' })
  screenshotPath!: string;

  @Column({ name: 'screenshot_type', type: 'text' })
  screenshotType!: string;

  @Column({ type: 'text' })
  status!: ClaimState;

  @Column({ name: 'reject_reason', type: 'text', nullable: true })
  rejectReason!: string | null;

  @Column({ name: 'reward_kind', type: 'text' })
  rewardKind!: 'cash' | 'points';

  @Column({ name: 'amount_fen', type: 'integer' })
  amountFen!: number;

  @Column({ type: 'integer' })
  points!: number;

  /** Which transfer attempt this is; out_bill_no is derived from the claim id and this number. */
  @Column({ name: 'transfer_attempt', type: 'integer' })
  transferAttempt!: number;

  @Column({ name: 'out_bill_no', type: 'text', nullable: true })
  outBillNo!: string | null;

  @Column({ name: 'transfer_bill_no', type: 'text', nullable: true })
  transferBillNo!: string | null;

  @Column({ name: 'package_info', type: 'text', nullable: true })
  packageInfo!: string | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason!: string | null;

  @CreateDateColumn({ name: 'submitted_at', type: 'timestamptz' })
  submittedAt!: Date;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  @Column({ name: 'decided_by', type: 'uuid', nullable: true })
  decidedBy!: string | null;

  /** The Asia/Shanghai day the claim was approved: the daily budget counts by it. */
  @Column({ name: 'approved_day', type: 'date', nullable: true })
  approvedDay!: string | null;

  @Column({ name: 'settled_at', type: 'timestamptz', nullable: true })
  settledAt!: Date | null;
}
