import type { Ctx, Db } from '../../infra/db';
import type { PointsService } from '../points/points.service';

interface OrderPointsRow {
  id: string;
  member_id: string;
  order_no: string;
  state: string;
  spend_fen: string;
  earn_id: string | null;
  earned: string | null;
  multiplier: string | null;
  reversed: string;
  tier_multiplier: string;
}

/**
 * Points for spend: once per order (the earn's idempotency key is the order id, however often it is re-imported),
 * credited when the order completes, and reversed — by a new transaction — as far as refunds or closing lower it.
 */
export class OrderPointsService {
  constructor(
    private readonly db: Db,
    private readonly points: PointsService,
    private readonly pointsPerYuan: number,
  ) {}

  private target(spendFen: number, multiplier: number): number {
    return Math.floor((spendFen * this.pointsPerYuan * multiplier) / 100);
  }

  async sync(ctx: Ctx, memberIds: string[]): Promise<{ earned: number; reversed: number }> {
    if (this.pointsPerYuan === 0 || memberIds.length === 0) return { earned: 0, reversed: 0 };
    const rows = (await this.db.em(ctx).query(
      `SELECT o.id, o.member_id, o.order_no, o.state, o.spend_fen, t.id AS earn_id, t.amount AS earned,
              t.metadata->>'multiplier' AS multiplier,
              coalesce((SELECT -sum(r.amount) FROM points_transaction r WHERE r.reverses_id = t.id), 0) AS reversed,
              coalesce((d.perks->>'pointsMultiplier')::numeric, 1) AS tier_multiplier
         FROM sales_order o
         JOIN member m ON m.id = o.member_id AND m.status = 'active'
         JOIN tier_definition d ON d.code = m.tier_code
         LEFT JOIN points_transaction t ON t.idempotency_key = 'order:' || o.id || ':earn'
        WHERE o.member_id = ANY($1::uuid[]) AND (t.id IS NOT NULL OR (o.state = 'completed' AND o.spend_fen > 0))`,
      [memberIds],
    )) as OrderPointsRow[];
    let earned = 0;
    let reversed = 0;
    for (const r of rows) {
      const spend = Number(r.spend_fen);
      if (!r.earn_id) {
        const multiplier = Number(r.tier_multiplier);
        const amount = this.target(spend, multiplier);
        if (amount <= 0) continue;
        await this.points.earn(ctx, {
          memberId: r.member_id,
          amount,
          idempotencyKey: `order:${r.id}:earn`,
          reason: `purchase ${r.order_no}`,
          metadata: { orderId: r.id, orderNo: r.order_no, spendFen: spend, multiplier },
        });
        earned += amount;
        continue;
      }
      const stillHeld = Number(r.earned) - Number(r.reversed);
      const due = r.state === 'closed' ? 0 : this.target(spend, Number(r.multiplier ?? 1));
      if (stillHeld <= due) continue;
      const res = await this.points
        .reverse(ctx, {
          transactionId: r.earn_id,
          amount: stillHeld - due,
          idempotencyKey: `order:${r.id}:reverse:${due}`,
          reason: r.state === 'closed' ? `order ${r.order_no} closed` : `refund on ${r.order_no}`,
          capAtBalance: true,
        })
        .catch((err: { code?: string }) => {
          // Points already spent: nothing left to take back; the refund is still recorded on the order.
          if (err.code === 'insufficient_points') return null;
          throw err;
        });
      if (res) reversed += -res.amount;
    }
    return { earned, reversed };
  }
}
