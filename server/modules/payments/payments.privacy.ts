import type { Db } from '../../infra/db';
import type { PrivacyHooks } from '../../infra/privacy';
import type { WxPayNotificationRecords } from '../../wechat/pay/wxpay-notification.service';

/**
 * The member's payments: each intent names its payer's mini-program openid (also in WeChat Pay's stored
 * notifications about it). Erasure keeps amounts, numbers and dates; a merge moves the intents.
 */
export function paymentsPrivacy(db: Db, payNotices: WxPayNotificationRecords): PrivacyHooks {
  return {
    name: 'payments',
    tables: {
      payment_intent: { member: ['member_id'], personal: ['payer_openid'], exportedAs: 'payments.intents' },
    },
    async export(ctx, id) {
      const intents = await db.rows(
        ctx,
        `SELECT i.kind, i.out_trade_no, i.payer_openid, i.amount_fen, i.state, i.transaction_id, i.paid_at, i.closed_at, i.refunded_fen, i.created_at,
                coalesce((SELECT jsonb_agg(jsonb_build_object('outRefundNo', r.out_refund_no, 'amountFen', r.amount_fen, 'state', r.state,
                                 'reason', r.reason, 'settledAt', r.settled_at) ORDER BY r.created_at)
                            FROM payment_refund r WHERE r.intent_id = i.id), '[]'::jsonb) AS refunds
           FROM payment_intent i WHERE i.member_id = $1 ORDER BY i.created_at, i.id`,
        [id],
      );
      return { intents };
    },
    async erase(ctx, id) {
      const intents = await db.rows<{ out_trade_no: string }>(ctx, "UPDATE payment_intent SET payer_openid = 'erased' WHERE member_id = $1 RETURNING out_trade_no", [id]);
      const notifications = await payNotices.forgetPayers(ctx, { outTradeNos: intents.map((i) => i.out_trade_no) });
      return { intents: intents.length, notifications };
    },
    async merge(ctx, survivorId, otherId) {
      const intents = await db.rows(ctx, 'UPDATE payment_intent SET member_id = $1 WHERE member_id = $2 RETURNING 1', [survivorId, otherId]);
      return { intents: intents.length };
    },
  };
}
