import type { Db } from '../../infra/db';
import type { PrivacyHooks } from '../../infra/privacy';
import type { WxPayNotificationRecords } from '../../wechat/pay/wxpay-notification.service';
import type { ReviewRewardsService } from './review-rewards.service';

/** Review claims: the screenshot (a file) and the transfer's package are personal; amounts and outcomes stay. */
export function reviewRewardsPrivacy(db: Db, rewards: ReviewRewardsService, payNotices: WxPayNotificationRecords): PrivacyHooks {
  return {
    name: 'reviewRewards',
    tables: {
      review_claim: { member: ['member_id'], personal: ['screenshot_path', 'package_info'], exportedAs: 'reviewRewards.claims' },
      // The receiver of a cash reward's transfer, as WeChat Pay reported it.
      wxpay_notification: { personal: ['resource'] },
    },

    async export(ctx, id) {
      const claims = await db.rows(
        ctx,
        `SELECT c.order_no, k.name AS campaign, c.status, c.reject_reason, c.reward_kind, c.amount_fen, c.points, c.screenshot_type,
                c.screenshot_path <> 'erased' AS screenshot_kept, c.failure_reason, c.submitted_at, c.decided_at, c.settled_at
           FROM review_claim c JOIN review_campaign k ON k.id = c.campaign_id WHERE c.member_id = $1 ORDER BY c.submitted_at, c.id`,
        [id],
      );
      return { claims };
    },

    async erase(ctx, id) {
      const bills = await db.rows<{ out_bill_no: string }>(ctx, 'SELECT out_bill_no FROM review_claim WHERE member_id = $1 AND out_bill_no IS NOT NULL', [id]);
      const claims = await rewards.eraseMember(ctx, id);
      const notifications = await payNotices.forgetPayers(ctx, { outBillNos: bills.map((b) => b.out_bill_no) });
      return { claims, notifications };
    },

    async merge(ctx, survivorId, otherId) {
      const moved = await db.rows(ctx, 'UPDATE review_claim SET member_id = $1 WHERE member_id = $2 RETURNING 1', [survivorId, otherId]);
      return { claims: moved.length };
    },
  };
}
