import type { Ctx, Db } from '../../infra/db';
import type { PointsService } from '../points/points.service';

interface OrderRow {
  id: string;
  member_id: string;
  order_no: string;
  state: string;
  spend_fen: string;
  tier_multiplier: string;
}

const earnKey = (orderId: string) => `order:${orderId}:earn`;

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
    const orders = await this.db.rows<OrderRow>(
      ctx,
      `SELECT o.id, o.member_id, o.order_no, o.state, o.spend_fen, coalesce((d.perks->>'pointsMultiplier')::numeric, 1) AS tier_multiplier
         FROM sales_order o
         JOIN member m ON m.id = o.member_id AND m.status = 'active'
         JOIN tier_definition d ON d.code = m.tier_code
        WHERE o.member_id = ANY($1::uuid[])`,
      [memberIds],
    );
    // What each order has earned so far is the points ledger's: asked by the earn's idempotency key.
    const earns = await this.points.earnsByKey(ctx, orders.map((o) => earnKey(o.id)));
    let earned = 0;
    let reversed = 0;
    for (const r of orders) {
      const earn = earns.get(earnKey(r.id));
      const spend = Number(r.spend_fen);
      if (!earn) {
        if (r.state !== 'completed' || spend <= 0) continue;
        const multiplier = Number(r.tier_multiplier);
        const amount = this.target(spend, multiplier);
        if (amount <= 0) continue;
        await this.points.earn(ctx, {
          memberId: r.member_id,
          amount,
          idempotencyKey: earnKey(r.id),
          reason: `purchase ${r.order_no}`,
          metadata: { orderId: r.id, orderNo: r.order_no, spendFen: spend, multiplier },
        });
        earned += amount;
        continue;
      }
      const stillHeld = earn.amount - earn.reversed;
      const due = r.state === 'closed' ? 0 : this.target(spend, earn.multiplier ?? 1);
      if (stillHeld <= due) continue;
      const res = await this.points
        .reverse(ctx, {
          transactionId: earn.id,
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
