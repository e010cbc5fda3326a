import type { Ctx, Db } from '../../infra/db';
import type { JobQueue } from '../../infra/queue';
import { conflict, invalid, isUniqueViolation, notFound } from '../../infra/errors';
import { shanghaiDay } from '../../infra/time';
import { ReviewCampaign, ReviewClaim, type ClaimState } from './review-rewards.entity';
import type { MemberNotifier, MerchantTransfers, RewardMembers, TransferState } from './review-rewards.ports';
import { checkScreenshot, type FileStore } from './screenshot-store';

export const NOTIFY_MEMBER = 'review-rewards.notify-member';

/** The claim lifecycle, checked in one place. */
const transitions: Record<ClaimState, readonly ClaimState[]> = {
  submitted: ['approved', 'points_awarded', 'rejected'],
  approved: ['transfer_pending'],
  transfer_pending: ['paid', 'transfer_failed'],
  transfer_failed: ['approved'],
  rejected: [],
  paid: [],
  points_awarded: [],
};

function assertTransition(from: ClaimState, to: ClaimState): void {
  if (!transitions[from].includes(to)) throw conflict('claim_state', `A ${from} claim cannot become ${to}`);
}

export interface CampaignInput {
  name: string;
  rewardKind: 'cash' | 'points';
  amountFen?: number;
  points?: number;
  startsAt: Date;
  endsAt: Date;
  dailyBudgetFen?: number | null;
  transferRemark?: string;
}

export interface ClaimView {
  id: string;
  campaignId: string;
  memberId: string;
  orderNo: string;
  status: ClaimState;
  rewardKind: 'cash' | 'points';
  amountFen: number;
  points: number;
  rejectReason: string | null;
  failureReason: string | null;
  outBillNo: string | null;
  submittedAt: string;
  decidedAt: string | null;
  settledAt: string | null;
}

export const toClaimView = (c: ReviewClaim): ClaimView => ({
  id: c.id,
  campaignId: c.campaignId,
  memberId: c.memberId,
  orderNo: c.orderNo,
  status: c.status,
  rewardKind: c.rewardKind,
  amountFen: c.amountFen,
  points: c.points,
  rejectReason: c.rejectReason,
  failureReason: c.failureReason,
  outBillNo: c.outBillNo,
  submittedAt: new Date(c.submittedAt).toISOString(),
  decidedAt: c.decidedAt ? new Date(c.decidedAt).toISOString() : null,
  settledAt: c.settledAt ? new Date(c.settledAt).toISOString() : null,
});

/** out_bill_no: the claim's id and the attempt, so a retry reuses it until a query shows the bill failed. */
export const outBillNoOf = (claimId: string, attempt: number) => `RR${claimId.replace(/-/g, '').slice(0, 26)}A${String(attempt).padStart(3, '0')}`;

/**
 * 评价有礼: a reward for an honest review of any rating. Nothing here asks for, checks or depends on the rating.
 */
export class ReviewRewardsService {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly files: FileStore,
    private readonly members: RewardMembers,
    private readonly transfers: MerchantTransfers,
    /** When "now" is: the campaign running, the day an approval counts against (tests fix it). */
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async createCampaign(ctx: Ctx, input: CampaignInput): Promise<ReviewCampaign> {
    const amountFen = input.rewardKind === 'cash' ? (input.amountFen ?? 500) : 0;
    const points = input.rewardKind === 'points' ? (input.points ?? 500) : 0;
    if (input.endsAt <= input.startsAt) throw invalid('campaign_window', 'The campaign must end after it starts');
    return this.db.repo(ctx, ReviewCampaign).save({
      name: input.name,
      rewardKind: input.rewardKind,
      amountFen,
      points,
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      dailyBudgetFen: input.dailyBudgetFen ?? null,
      transferRemark: input.transferRemark ?? '晒单评价有礼',
      active: true,
    });
  }

  listCampaigns(ctx: Ctx): Promise<ReviewCampaign[]> {
    return this.db.repo(ctx, ReviewCampaign).find({ order: { createdAt: 'DESC' } });
  }

  async setCampaignActive(ctx: Ctx, id: string, active: boolean): Promise<ReviewCampaign> {
    const res = await this.db.repo(ctx, ReviewCampaign).update({ id }, { active });
    if (!res.affected) throw notFound('campaign_not_found', 'No campaign with that id');
    return (await this.db.repo(ctx, ReviewCampaign).findOneBy({ id }))!;
  }

  /** The campaign running now (the newest if several overlap). */
  async currentCampaign(ctx: Ctx, now = this.clock()): Promise<ReviewCampaign | null> {
    return this.db
      .repo(ctx, ReviewCampaign)
      .createQueryBuilder('c')
      .where('c.active AND c.starts_at <= :now AND c.ends_at > :now', { now })
      .orderBy('c.created_at', 'DESC')
      .getOne();
  }

  /** A bound member claims the reward for a completed order of theirs, with a screenshot of the review. */
  async submitClaim(ctx: Ctx, memberId: string, input: { orderNo: string; screenshot: Buffer }): Promise<ClaimView> {
    const type = checkScreenshot(input.screenshot);
    const campaign = await this.currentCampaign(ctx);
    if (!campaign) throw conflict('no_active_campaign', 'No review-reward campaign is running now');
    const order = await this.members.orderOfMember(ctx, memberId, input.orderNo);
    if (!order) throw notFound('order_not_found', 'This order is not bound to your account');
    if (!order.completed) throw conflict('order_not_completed', 'The reward can be claimed once the order is completed (交易成功)');
    const key = await this.files.put(input.screenshot, type);
    try {
      const claim = await this.db.repo(ctx, ReviewClaim).save({
        campaignId: campaign.id,
        memberId,
        channelId: order.channelId,
        orderNo: order.orderNo,
        screenshotPath: key,
        screenshotType: type,
        status: 'submitted' as const,
        rejectReason: null,
        rewardKind: campaign.rewardKind,
        amountFen: campaign.amountFen,
        points: campaign.points,
        transferAttempt: 0,
        outBillNo: null,
        transferBillNo: null,
        packageInfo: null,
        failureReason: null,
        decidedAt: null,
        decidedBy: null,
        approvedDay: null,
        settledAt: null,
      });
      return toClaimView(claim);
    } catch (err) {
      await this.files.remove(key);
      if (isUniqueViolation(err)) throw conflict('already_claimed', 'The reward for this order has been claimed already');
      throw err;
    }
  }

  async listClaims(ctx: Ctx, q: { status?: ClaimState; memberId?: string; limit: number }): Promise<ClaimView[]> {
    const rows = await this.db.repo(ctx, ReviewClaim).find({
      where: { ...(q.status ? { status: q.status } : {}), ...(q.memberId ? { memberId: q.memberId } : {}) },
      order: { submittedAt: 'ASC' },
      take: q.limit,
    });
    return rows.map(toClaimView);
  }

  async screenshot(ctx: Ctx, claimId: string): Promise<{ bytes: Buffer; type: string }> {
    const claim = await this.claim(ctx, claimId);
    return { bytes: await this.files.get(claim.screenshotPath), type: claim.screenshotType };
  }

  /**
   * The merchant saw the review and it belongs to the order. Cash: a transfer bill the member confirms;
   * points: credited at once. The daily budget (by Asia/Shanghai day) is checked under a lock on the campaign.
   */
  async approve(ctx: Ctx, staffId: string, claimId: string, now = this.clock()): Promise<ClaimView> {
    const approved = await this.db.transaction(ctx, async (tx) => {
      const claim = await this.claim(tx, claimId, true);
      const campaign = await this.db.repo(tx, ReviewCampaign).findOne({ where: { id: claim.campaignId }, lock: { mode: 'pessimistic_write' } });
      const today = shanghaiDay(now);
      if (claim.rewardKind === 'points') {
        assertTransition(claim.status, 'points_awarded');
        await this.members.awardPoints(tx, claim.memberId, claim.points, `review-claim:${claim.id}`, '晒单评价有礼');
        Object.assign(claim, { status: 'points_awarded', decidedAt: now, decidedBy: staffId, approvedDay: today, settledAt: now });
      } else {
        assertTransition(claim.status, 'approved');
        if (campaign?.dailyBudgetFen) {
          // A failed transfer keeps its day's budget: it can only be retried, never dropped.
          const [{ spent }] = await this.db.rows(tx, "SELECT COALESCE(sum(amount_fen), 0)::bigint AS spent FROM review_claim WHERE campaign_id = $1 AND approved_day = $2 AND status <> 'rejected'",
            [claim.campaignId, today],
          );
          if (Number(spent) + claim.amountFen > campaign.dailyBudgetFen) {
            throw conflict('daily_budget_reached', "Today's budget for this campaign is used up; approve again tomorrow");
          }
        }
        Object.assign(claim, {
          status: 'approved',
          decidedAt: now,
          decidedBy: staffId,
          approvedDay: today,
          transferAttempt: 1,
          outBillNo: outBillNoOf(claim.id, 1),
        });
      }
      await this.db.repo(tx, ReviewClaim).save(claim);
      const text =
        claim.rewardKind === 'points'
          ? `您的晒单评价奖励已发放：${claim.points} 积分已到账。感谢您的真实评价！`
          : `您的晒单评价奖励已通过审核：${(claim.amountFen / 100).toFixed(2)} 元，请在小程序“我的-评价有礼”中确认收款。`;
      await this.queue.send(tx, NOTIFY_MEMBER, { memberId: claim.memberId, text });
      return claim;
    });
    if (approved.status === 'approved') return this.startTransfer(ctx, approved.id);
    return toClaimView(approved);
  }

  async reject(ctx: Ctx, staffId: string, claimId: string, reason: string): Promise<ClaimView> {
    return this.db.transaction(ctx, async (tx) => {
      const claim = await this.claim(tx, claimId, true);
      assertTransition(claim.status, 'rejected');
      Object.assign(claim, { status: 'rejected', rejectReason: reason, decidedAt: this.clock(), decidedBy: staffId });
      await this.db.repo(tx, ReviewClaim).save(claim);
      await this.queue.send(tx, NOTIFY_MEMBER, {
        memberId: claim.memberId,
        text: `您的晒单评价奖励申请未通过：${reason}。可在小程序中重新提交。`,
      });
      return toClaimView(claim);
    });
  }

  /**
   * Asks WeChat Pay for the transfer bill. Called outside any transaction; WeChat answers the same out_bill_no with
   * the same bill, so calling again after a timeout is safe. A failure stays visible on the claim for a retry.
   */
  private async startTransfer(ctx: Ctx, claimId: string, from: 'approved' | 'transfer_pending' = 'approved'): Promise<ClaimView> {
    const claim = await this.claim(ctx, claimId);
    if (claim.status !== from || !claim.outBillNo) return toClaimView(claim);
    const openid = await this.members.mpOpenidOf(ctx, claim.memberId);
    try {
      if (!openid) throw new Error('the member has not opened the mini-program');
      const bill = await this.transfers.createTransfer({
        outBillNo: claim.outBillNo,
        openid,
        amountFen: claim.amountFen,
        remark: (await this.db.repo(ctx, ReviewCampaign).findOneBy({ id: claim.campaignId }))?.transferRemark ?? '晒单评价有礼',
      });
      await this.db
        .repo(ctx, ReviewClaim)
        .update(
          { id: claim.id, status: from },
          { status: 'transfer_pending', transferBillNo: bill.transferBillNo, packageInfo: bill.packageInfo ?? null, failureReason: null },
        );
    } catch (err) {
      await this.db.repo(ctx, ReviewClaim).update({ id: claim.id, status: from }, { failureReason: (err as Error).message.slice(0, 300) });
    }
    return toClaimView(await this.claim(ctx, claimId));
  }

  /**
   * A failed or stuck transfer, again. A new out_bill_no only once WeChat's own record says the old bill failed.
   */
  async retryTransfer(ctx: Ctx, claimId: string): Promise<ClaimView> {
    const claim = await this.claim(ctx, claimId);
    if (claim.status === 'approved') return this.startTransfer(ctx, claimId);
    if (claim.status !== 'transfer_failed' && claim.status !== 'transfer_pending') {
      throw conflict('claim_state', `A ${claim.status} claim has no transfer to retry`);
    }
    const bill = await this.transfers.queryTransfer(claim.outBillNo!);
    // No record is not a failure: ask again under the same out_bill_no (WeChat answers it with one bill at most).
    if (!bill && claim.status === 'transfer_pending') return this.startTransfer(ctx, claimId, 'transfer_pending');
    if (bill && !['FAIL', 'CANCELLED'].includes(bill.state)) {
      if (bill.state === 'SUCCESS') await this.settleTransfer(ctx, { outBillNo: claim.outBillNo!, state: 'SUCCESS' });
      else throw conflict('transfer_in_progress', `WeChat still has this transfer as ${bill.state}`);
      return toClaimView(await this.claim(ctx, claimId));
    }
    await this.db.transaction(ctx, async (tx) => {
      const locked = await this.claim(tx, claimId, true);
      if (locked.outBillNo !== claim.outBillNo) return; // someone else retried meanwhile
      if (locked.status === 'transfer_pending') Object.assign(locked, { status: 'transfer_failed' });
      assertTransition(locked.status, 'approved');
      const attempt = locked.transferAttempt + 1;
      Object.assign(locked, { status: 'approved', transferAttempt: attempt, outBillNo: outBillNoOf(locked.id, attempt), packageInfo: null, transferBillNo: null });
      await this.db.repo(tx, ReviewClaim).save(locked);
    });
    return this.startTransfer(ctx, claimId);
  }

  /** What the mini-program passes to wx.requestMerchantTransfer; only the claim's own member gets it. */
  async transferPackageFor(ctx: Ctx, memberId: string, claimId: string): Promise<{ packageInfo: string; outBillNo: string }> {
    const claim = await this.db.repo(ctx, ReviewClaim).findOneBy({ id: claimId });
    if (!claim || claim.memberId !== memberId) throw notFound('claim_not_found', 'No such claim of yours');
    if (claim.status !== 'transfer_pending' || !claim.packageInfo) throw conflict('nothing_to_confirm', 'This claim has no transfer waiting for you');
    return { packageInfo: claim.packageInfo, outBillNo: claim.outBillNo! };
  }

  /** MCHTRANSFER.BILL.FINISHED (or a query): settles the claim once, whatever the number of deliveries. */
  async settleTransfer(ctx: Ctx, n: { outBillNo: string; state: TransferState; failReason?: string }): Promise<'settled' | 'ignored'> {
    return this.db.transaction(ctx, async (tx) => {
      const claim = await this.db.repo(tx, ReviewClaim).findOne({ where: { outBillNo: n.outBillNo }, lock: { mode: 'pessimistic_write' } });
      if (!claim || claim.status !== 'transfer_pending') return 'ignored';
      if (n.state === 'SUCCESS') {
        Object.assign(claim, { status: 'paid', settledAt: new Date() });
        await this.queue.send(tx, NOTIFY_MEMBER, { memberId: claim.memberId, text: `晒单评价奖励 ${(claim.amountFen / 100).toFixed(2)} 元已到账，感谢您的真实评价！` });
      } else if (n.state === 'FAIL' || n.state === 'CANCELLED') {
        Object.assign(claim, { status: 'transfer_failed', failureReason: n.failReason ?? n.state });
      } else {
        return 'ignored';
      }
      await this.db.repo(tx, ReviewClaim).save(claim);
      return 'settled';
    });
  }

  async countClaimsByMembers(ctx: Ctx, memberIds: readonly string[]): Promise<number> {
    const [{ n }] = await this.db.rows(ctx, "SELECT count(*)::int AS n FROM review_claim WHERE member_id = ANY($1::uuid[]) AND status <> 'rejected'", [memberIds]);
    return n;
  }

  /** Erasure (PIPL): screenshots are deleted; claims keep their amounts for the books. */
  async eraseMember(ctx: Ctx, memberId: string): Promise<number> {
    const claims = await this.db.repo(ctx, ReviewClaim).find({ where: { memberId } });
    for (const c of claims) {
      if (c.screenshotPath !== 'erased') await this.files.remove(c.screenshotPath).catch(() => undefined);
    }
    await this.db.repo(ctx, ReviewClaim).update({ memberId }, { screenshotPath: 'erased', packageInfo: null });
    return claims.length;
  }

  private async claim(ctx: Ctx, id: string, lock = false): Promise<ReviewClaim> {
    const claim = await this.db.repo(ctx, ReviewClaim).findOne({ where: { id }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!claim) throw notFound('claim_not_found', 'No claim with that id');
    return claim;
  }

}
