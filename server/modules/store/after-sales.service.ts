import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid, notFound } from '../../infra/errors';
import type { FlowDefinition, FlowRunner } from '../../infra/flows';
import type { PaymentIntent, PaymentRefund, PaymentsService } from '../payments';
import { allowed, transition } from './order-lifecycle';
import { returnStock } from './order-returns';
import { STORE_PAYMENT_KIND } from './orders.service';
import type { StoreOrder } from './store.entity';
import type { StorePoints } from './store.ports';

export const AFTER_SALE_REFUND_FLOW = 'store.after-sale-refund';

export type AfterSaleStatus = 'requested' | 'rejected' | 'refunding' | 'refunded' | 'failed';

export interface AfterSaleView {
  id: string;
  orderId: string;
  /** null: the whole order (what is left of it). */
  lines: Array<{ skuId: string; quantity: number }> | null;
  amountFen: number;
  reason: string;
  requestedBy: 'member' | 'merchant';
  status: AfterSaleStatus;
  merchantNote: string | null;
  createdAt: string;
  decidedAt: string | null;
  settledAt: string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const view = (r: Record<string, any>): AfterSaleView => ({
  id: r.id,
  orderId: r.order_id,
  lines: r.lines,
  amountFen: r.amount_fen,
  reason: r.reason,
  requestedBy: r.requested_by,
  status: r.status,
  merchantNote: r.merchant_note,
  createdAt: iso(r.created_at)!,
  decidedAt: iso(r.decided_at),
  settledAt: iso(r.settled_at),
});

type OrderRow = { id: string; member_id: string; status: StoreOrder['status']; refund_status: string | null; payable_fen: number; shipping_fen: number; shipped_at: Date | null; points_used: number; points_awarded: number; points_returned: number; points_clawed_back: number };

/**
 * After-sales (申请退款): the member asks for the whole order or some lines back with a reason, the merchant accepts
 * or rejects; the merchant's own refund is one accepted at once. An accepted request is refunded by a flow (reserve
 * the refund with the order's state change, then send it); the refund's outcome settles it: the lines' stock back
 * when unshipped, points used back and purchase points taken back in proportion to the money, and, with the last
 * of the money, the coupon.
 */
export class AfterSalesService {
  constructor(
    private readonly db: Db,
    private readonly payments: PaymentsService,
    private readonly flows: FlowRunner,
    private readonly points: StorePoints,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** An accepted request's refund: reserve (undone by withdrawing the refund), then send (registered by registerStorePayments). */
  refundFlow(): FlowDefinition<{ afterSaleId: string; refundId?: string }> {
    return {
      name: AFTER_SALE_REFUND_FLOW,
      steps: [
        {
          name: 'reserve',
          run: (ctx, s) => this.reserve(ctx, s.afterSaleId),
          undo: (ctx, s) => this.unreserve(ctx, s.afterSaleId, s.refundId),
        },
        { name: 'send', run: async (ctx, s) => void (await this.payments.submitRefund(ctx, s.refundId!)) },
      ],
    };
  }

  /** A request for the whole order (lines absent) or these lines; one open request per order. */
  async request(
    ctx: Ctx,
    p: { orderId: string; memberId: string | null; reason: string; lines?: Array<{ skuId: string; quantity: number }> },
  ): Promise<AfterSaleView> {
    return this.db.transaction(ctx, async (tx) => {
      const [o] = await this.db.rows<OrderRow>(tx, 'SELECT * FROM store_order WHERE id = $1 FOR UPDATE', [p.orderId]);
      if (!o || (p.memberId !== null && o.member_id !== p.memberId)) throw notFound('order_not_found', 'No such order');
      if (!allowed('startRefund', { status: o.status, refundStatus: o.refund_status })) {
        throw conflict('order_not_refundable', 'Only a paid order without a refund in progress can be refunded');
      }
      const intent = await this.payments.intentByKey(tx, STORE_PAYMENT_KIND, o.id);
      if (!intent || intent.state !== 'paid') throw conflict('order_not_refundable', 'This order has no payment to refund');
      const items = await this.db.rows<{ sku_id: string; quantity: number; refunded_quantity: number; unit_price_fen: number }>(
        tx,
        'SELECT sku_id, quantity, refunded_quantity, unit_price_fen FROM store_order_item WHERE order_id = $1',
        [o.id],
      );
      const left = intent.amountFen - intent.refundedFen;
      let lines = p.lines ?? null;
      let amountFen = left;
      if (lines) {
        const merged = new Map<string, number>();
        for (const l of lines) merged.set(l.skuId, (merged.get(l.skuId) ?? 0) + l.quantity);
        lines = [...merged].map(([skuId, quantity]) => ({ skuId, quantity }));
        for (const l of lines) {
          const item = items.find((i) => i.sku_id === l.skuId);
          if (!item) throw invalid('after_sale_bad_line', 'This order has no such item', { skuId: l.skuId });
          if (l.quantity < 1 || l.quantity > item.quantity - item.refunded_quantity) {
            throw invalid('after_sale_bad_quantity', `At most ${item.quantity - item.refunded_quantity} of this item can be refunded`, { skuId: l.skuId });
          }
        }
        const everything = items.every((i) => (lines!.find((l) => l.skuId === i.sku_id)?.quantity ?? 0) === i.quantity - i.refunded_quantity);
        if (everything) lines = null;
        else {
          // The lines' share of what was paid for the goods (discounts and points spread in proportion), shipping not included.
          const goods = items.reduce((n, i) => n + i.unit_price_fen * i.quantity, 0);
          const part = lines.reduce((n, l) => n + items.find((i) => i.sku_id === l.skuId)!.unit_price_fen * l.quantity, 0);
          amountFen = Math.min(left, Math.floor((part * (o.payable_fen - o.shipping_fen)) / goods));
        }
      }
      if (amountFen < 1) throw conflict('order_not_refundable', 'Nothing of this order is left to refund');
      try {
        const [row] = await this.db.rows(
          tx,
          `INSERT INTO store_after_sale (id, order_id, member_id, lines, amount_fen, reason, requested_by, status)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, 'requested') RETURNING *`,
          [randomUUID(), o.id, o.member_id, lines ? JSON.stringify(lines) : null, amountFen, p.reason, p.memberId === null ? 'merchant' : 'member'],
        );
        return view(row!);
      } catch (err) {
        if ((err as { code?: string }).code === '23505' || /uq_store_after_sale_open/.test(String((err as Error).message))) {
          throw conflict('after_sale_open', 'This order has a refund request open already');
        }
        throw err;
      }
    });
  }

  async list(ctx: Ctx, filter: { orderId?: string; memberId?: string; status?: AfterSaleStatus }): Promise<AfterSaleView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.orderId) where.push(`order_id = $${params.push(filter.orderId)}`);
    if (filter.memberId) where.push(`member_id = $${params.push(filter.memberId)}`);
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    const found = await this.db.rows(ctx, `SELECT * FROM store_after_sale ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT 200`, params);
    return found.map(view);
  }

  async get(ctx: Ctx, id: string): Promise<AfterSaleView> {
    const [row] = await this.db.rows(ctx, 'SELECT * FROM store_after_sale WHERE id = $1', [id]);
    if (!row) throw notFound('after_sale_not_found', 'No such refund request');
    return view(row);
  }

  /** The merchant's own refund of what is left of an order: a request accepted at once. */
  async refundOrder(ctx: Ctx, orderId: string, reason: string, lines?: Array<{ skuId: string; quantity: number }>): Promise<AfterSaleView> {
    const a = await this.request(ctx, { orderId, memberId: null, reason, lines });
    return this.accept(ctx, a.id);
  }

  async reject(ctx: Ctx, id: string, note: string): Promise<AfterSaleView> {
    const [row] = await this.db.rows(
      ctx,
      "UPDATE store_after_sale SET status = 'rejected', merchant_note = $2, decided_at = now() WHERE id = $1 AND status = 'requested' RETURNING *",
      [id, note],
    );
    if (!row) {
      await this.get(ctx, id);
      throw conflict('after_sale_decided', 'This refund request was decided already');
    }
    return view(row);
  }

  /** Accepts: the refund flow starts (and is driven at once; its job carries on after a crash or an unreachable WeChat). */
  async accept(ctx: Ctx, id: string, note?: string): Promise<AfterSaleView> {
    const a = await this.get(ctx, id);
    if (a.status !== 'requested') throw conflict('after_sale_decided', 'This refund request was decided already');
    if (note) await this.db.rows(ctx, 'UPDATE store_after_sale SET merchant_note = $2 WHERE id = $1', [id, note]);
    const run = await this.flows.start(ctx, AFTER_SALE_REFUND_FLOW, id, { afterSaleId: id });
    try {
      // Driven here once: WeChat unreachable leaves the step to the job (retryCount below retryLimit), never undone for it.
      const done = await this.flows.run(run.id, { retryCount: 0, retryLimit: 1 });
      if (done.status === 'undone') throw conflict('order_not_refundable', done.error ?? 'The refund could not be started');
    } catch (err) {
      if ((err as { code?: string }).code === 'order_not_refundable') throw err;
      this.log.warn({ err, afterSaleId: id }, 'refund flow not finished now: its job carries on');
    }
    return this.get(ctx, id);
  }

  /** Step 1: the request becomes refunding, the order's refund starts, the refund is reserved: one transaction. */
  private async reserve(ctx: Ctx, id: string): Promise<{ refundId: string }> {
    return this.db.transaction(ctx, async (tx) => {
      const [a] = await this.db.rows(tx, 'SELECT * FROM store_after_sale WHERE id = $1 FOR UPDATE', [id]);
      if (!a) throw notFound('after_sale_not_found', 'No such refund request');
      const intent = await this.payments.intentByKey(tx, STORE_PAYMENT_KIND, a.order_id);
      if (!intent) throw conflict('order_not_refundable', 'This order has no payment');
      if (a.status === 'requested') {
        const t = transition('startRefund');
        const [started] = await this.db.rows(tx, `UPDATE store_order SET ${t.set}, refund_reason = $2, refund_error = NULL WHERE id = $1 AND ${t.where} RETURNING id`, [
          a.order_id,
          a.reason,
        ]);
        if (!started) throw conflict('order_not_refundable', 'Only a paid order without a refund in progress can be refunded');
        await this.db.rows(tx, "UPDATE store_after_sale SET status = 'refunding', decided_at = now() WHERE id = $1", [id]);
      } else if (a.status !== 'refunding' && a.status !== 'refunded') {
        throw conflict('after_sale_decided', 'This refund request was decided already');
      }
      // The same key is the same refund: a run again after a crash finds the one it made.
      const refund = await this.payments.refund(tx, { intentId: intent.id, key: `after-sale:${id}`, amountFen: a.amount_fen, reason: a.reason });
      await this.db.rows(tx, 'UPDATE store_after_sale SET out_refund_no = $2 WHERE id = $1', [id, refund.outRefundNo]);
      await this.db.rows(tx, 'UPDATE store_order SET out_refund_no = $2 WHERE id = $1', [a.order_id, refund.outRefundNo]);
      return { refundId: refund.id };
    });
  }

  /** Undo of step 1: the refund withdrawn if it was never sent, the request failed, the order's refund failed. */
  private async unreserve(ctx: Ctx, id: string, refundId: string | undefined): Promise<void> {
    if (refundId) await this.payments.withdrawRefund(ctx, refundId);
    await this.db.transaction(ctx, async (tx) => {
      const [a] = await this.db.rows(tx, "UPDATE store_after_sale SET status = 'failed', settled_at = now() WHERE id = $1 AND status = 'refunding' RETURNING order_id", [id]);
      if (!a) return;
      const f = transition('refundFailed');
      await this.db.rows(tx, `UPDATE store_order SET ${f.set}, refund_error = 'refund withdrawn' WHERE id = $1 AND ${f.where}`, [a.order_id]);
    });
  }

  /**
   * A settled refund of an after-sale (the payments module's onRefundSettled, in its transaction). False when the
   * refund is not an after-sale's (the store's own full refund of a late payment, or an older refund).
   */
  async settle(tx: Ctx, refund: PaymentRefund, intent: PaymentIntent): Promise<boolean> {
    const [a] = await this.db.rows(tx, 'SELECT * FROM store_after_sale WHERE out_refund_no = $1 FOR UPDATE', [refund.outRefundNo]);
    if (!a) return false;
    if (a.status !== 'refunding') return true; // settled already
    const [o] = await this.db.rows<OrderRow>(tx, 'SELECT * FROM store_order WHERE id = $1 FOR UPDATE', [a.order_id]);
    if (refund.state !== 'succeeded') {
      await this.db.rows(tx, "UPDATE store_after_sale SET status = 'failed', settled_at = now() WHERE id = $1", [a.id]);
      const f = transition('refundFailed');
      await this.db.rows(tx, `UPDATE store_order SET ${f.set}, refund_error = $2 WHERE id = $1 AND ${f.where}`, [o!.id, refund.error ?? 'refund failed']);
      return true;
    }
    const full = intent.refundedFen >= intent.amountFen;
    const lines: Array<{ skuId: string; quantity: number }> =
      a.lines ??
      (await this.db.rows<{ sku_id: string; left: number }>(tx, 'SELECT sku_id, quantity - refunded_quantity AS left FROM store_order_item WHERE order_id = $1', [o!.id]))
        .filter((i) => i.left > 0)
        .map((i) => ({ skuId: i.sku_id, quantity: i.left }));
    for (const l of lines) {
      await this.db.rows(tx, 'UPDATE store_order_item SET refunded_quantity = refunded_quantity + $3 WHERE order_id = $1 AND sku_id = $2', [o!.id, l.skuId, l.quantity]);
    }
    const t = transition(full ? 'refundedInFull' : 'refundedInPart');
    await this.db.rows(tx, `UPDATE store_order SET ${t.set}, refunded_at = now() WHERE id = $1 AND ${t.where}`, [o!.id]);
    if (!o!.shipped_at) await returnStock(this.db, tx, o!.id, lines);
    // Points in proportion to the money (rounded down); the last refund brings back the rest. One key per refund.
    const share = (total: number, sofar: number) => (full ? total - sofar : Math.min(total - sofar, Math.floor((total * a.amount_fen) / o!.payable_fen)));
    const keyOf = (step: string) => (full && !a.lines ? `order:${o!.id}:${step}` : `order:${o!.id}:${step}:${a.id}`);
    const back = share(o!.points_used, o!.points_returned);
    if (back > 0) {
      await this.points.credit(tx, o!.member_id, back, keyOf('points-refund'), '退款退回积分');
      await this.db.rows(tx, 'UPDATE store_order SET points_returned = points_returned + $2 WHERE id = $1', [o!.id, back]);
    }
    const claw = share(o!.points_awarded, o!.points_clawed_back);
    if (claw > 0) {
      const taken = await this.points.clawback(tx, o!.member_id, claw, keyOf('award-clawback'), '退款扣回购物奖励');
      await this.db.rows(tx, 'UPDATE store_order SET points_clawed_back = points_clawed_back + $2 WHERE id = $1', [o!.id, taken]);
    }
    // The coupon comes back with the last of the money (it was spent on the whole order).
    if (full) await this.db.rows(tx, 'UPDATE member_coupon SET used_order_id = NULL WHERE used_order_id = $1', [o!.id]);
    await this.db.rows(tx, "UPDATE store_after_sale SET status = 'refunded', settled_at = now() WHERE id = $1", [a.id]);
    return true;
  }
}
