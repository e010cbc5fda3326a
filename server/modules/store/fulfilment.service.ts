import type { FastifyBaseLogger } from 'fastify';
import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid, notFound } from '../../infra/errors';
import type { JobQueue } from '../../infra/queue';
import { StoreOrder, StoreOrderItem } from './store.entity';
import type { MemberTiers, StorePayments, StorePoints } from './store.ports';
import { isStoreOrderNo, STORE_PAYMENT_KIND, STORE_TRADE_PREFIX, type OrderService, type OrderView } from './orders.service';
import type { PaymentIntent, PaymentKind, PaymentRefund, PaymentsService } from '../payments';
import type { AfterSalesService } from './after-sales.service';
import { transition } from './order-lifecycle';
import { returnStock } from './order-returns';

export const UPLOAD_SHIPPING = 'store.upload-shipping-info';
export const COMPLETE_DELIVERED = 'store.complete-delivered-orders';
/** Shipped orders count as received after this many days, as WeChat's own auto-confirmation does. */
export const AUTO_COMPLETE_DAYS = 15;

export interface AdminOrderView extends OrderView {
  memberId: string;
  transactionId: string | null;
  shippingState: 'not_shipped' | 'shipped_not_uploaded' | 'uploaded';
  shippingUploadError: string | null;
  refund: { status: string; reason: string | null; error: string | null; refundedAt: string | null } | null;
  pointsAwarded: number;
  pointsClawedBack: number;
}

/**
 * What happens after the member pays: the payment and refund notifications, shipping (and telling WeChat, which
 * holds the money until it knows), and refunds the merchant starts.
 */
export class FulfilmentService {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly points: StorePoints,
    private readonly tiers: MemberTiers,
    private readonly shipping: StorePayments,
    private readonly payments: PaymentsService,
    private readonly orders: OrderService,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The store's payment kind: what a paid, closed or refunded store payment does to its order. */
  paymentKind(afterSales: AfterSalesService): PaymentKind {
    return {
      kind: STORE_PAYMENT_KIND,
      prefix: STORE_TRADE_PREFIX,
      onPaid: (ctx, intent) => this.onPaid(ctx, intent),
      onClosed: async (ctx, intent) => void (await this.orders.cancelInTx(ctx, intent.key, intent.closeReason ?? 'expired')),
      onRefundSettled: async (ctx, refund, intent) => {
        if (!(await afterSales.settle(ctx, refund, intent))) await this.onRefundSettled(ctx, refund, intent);
      },
      // Orders placed before: out_trade_no was the order number, the refund R + it.
      legacy: { tradeNo: isStoreOrderNo, refundNo: (no) => no.startsWith('R') && isStoreOrderNo(no.slice(1)) },
    };
  }

  /**
   * Paid exactly once (the payments module calls this once per payment, in its transaction); the points key makes
   * the award once. A payment of an order cancelled meanwhile goes back in full.
   */
  private async onPaid(tx: Ctx, intent: PaymentIntent): Promise<void> {
    const order = await this.db.repo(tx, StoreOrder).findOneBy({ id: intent.key });
    if (!order) throw notFound('order_not_found', `No order ${intent.key}`);
    if (intent.amountFen !== order.payableFen) {
      this.log.error({ orderNo: order.orderNo, paid: intent.amountFen, payable: order.payableFen }, 'payment amount differs from the order');
      throw invalid('amount_mismatch', 'The paid amount differs from the order');
    }
    if (order.status === 'pending_payment' && !intent.paidAfterClose) {
      const tier = await this.tiers.tierOf(tx, order.memberId);
      const award = Math.floor((order.payableFen * tier.pointsMultiplier) / 100);
      const t = transition('pay');
      const [paid] = await this.db.rows(
        tx,
        `UPDATE store_order SET ${t.set}, paid_at = now(), transaction_id = $2, points_awarded = $3 WHERE id = $1 AND ${t.where} RETURNING id`,
        [order.id, intent.transactionId, award],
      );
      if (paid && award > 0) await this.points.credit(tx, order.memberId, award, `order:${order.id}:award`, `购物奖励 ${order.orderNo}`);
      return;
    }
    const late = transition('refundLatePayment');
    const [marked] = await this.db.rows(
      tx,
      `UPDATE store_order SET ${late.set}, transaction_id = $2, refund_reason = 'paid after cancellation' WHERE id = $1 AND transaction_id IS NULL AND ${late.where} RETURNING id`,
      [order.id, intent.transactionId],
    );
    if (marked) {
      // Paid after it was cancelled (the close did not reach WeChat): the money goes back in full.
      const refund = await this.payments.refund(tx, { intentId: intent.id, key: 'late-payment', amountFen: intent.amountFen, reason: 'paid after cancellation' });
      await this.db.rows(tx, 'UPDATE store_order SET out_refund_no = $2 WHERE id = $1', [order.id, refund.outRefundNo]);
    }
  }

  /** A refund that is no after-sale's: a late payment's (the order was cancelled), or one started before after-sales. */
  private async onRefundSettled(tx: Ctx, refund: PaymentRefund, _intent: PaymentIntent): Promise<void> {
    const [o] = await this.db.rows<{ id: string; member_id: string; status: string; shipped_at: Date | null; points_used: number; points_awarded: number }>(
      tx,
      "SELECT id, member_id, status, shipped_at, points_used, points_awarded FROM store_order WHERE out_refund_no = $1 AND refund_status = 'processing' FOR UPDATE",
      [refund.outRefundNo],
    );
    if (!o) return; // a refund this order no longer waits for
    if (refund.state !== 'succeeded') {
      const f = transition('refundFailed');
      await this.db.rows(tx, `UPDATE store_order SET ${f.set}, refund_error = $2 WHERE id = $1 AND ${f.where}`, [o.id, refund.error ?? 'refund failed']);
      return;
    }
    const wasCancelled = o.status === 'cancelled';
    const full = transition('refundedInFull');
    await this.db.rows(tx, `UPDATE store_order SET ${full.set}, refunded_at = now() WHERE id = $1 AND ${full.where}`, [o.id]);
    if (wasCancelled) return; // stock and points went back at cancellation
    if (!o.shipped_at) await returnStock(this.db, tx, o.id);
    await this.db.rows(tx, 'UPDATE member_coupon SET used_order_id = NULL WHERE used_order_id = $1', [o.id]);
    if (o.points_used > 0) await this.points.credit(tx, o.member_id, o.points_used, `order:${o.id}:points-refund`, '退款退回积分');
    if (o.points_awarded > 0) {
      const taken = await this.points.clawback(tx, o.member_id, o.points_awarded, `order:${o.id}:award-clawback`, '退款扣回购物奖励');
      await this.db.rows(tx, 'UPDATE store_order SET points_clawed_back = $2 WHERE id = $1', [o.id, taken]);
    }
  }

  async ship(ctx: Ctx, orderId: string, company: string, trackingNo: string): Promise<AdminOrderView> {
    await this.db.transaction(ctx, async (tx) => {
      const t = transition('ship');
      const [shipped] = await this.db.rows(
        tx,
        `UPDATE store_order SET ${t.set}, shipping_company = $2, tracking_no = $3, shipped_at = now() WHERE id = $1 AND ${t.where} RETURNING id`,
        [orderId, company, trackingNo],
      );
      if (!shipped) {
        await this.adminOrder(tx, orderId);
        throw conflict('order_not_shippable', 'Only a paid order without a refund in progress can be shipped');
      }
      await this.queue.send(tx, UPLOAD_SHIPPING, { orderId }, { singletonKey: `ship:${orderId}` });
    });
    return this.adminDetail(ctx, orderId);
  }

  /** The job behind ship: retried until WeChat has the shipping information. */
  async uploadShipping(ctx: Ctx, orderId: string): Promise<void> {
    const order = await this.adminOrder(ctx, orderId);
    if (order.shippingUploadedAt || !order.shippingCompany || !order.trackingNo) return;
    const items = await this.db.repo(ctx, StoreOrderItem).find({ where: { orderId } });
    const itemDesc = items.map((i) => `${i.title} ${i.skuName}×${i.quantity}`).join('；').slice(0, 120);
    try {
      await this.shipping.uploadShipping({
        transactionId: order.transactionId ?? undefined,
        outTradeNo: (await this.payments.intentByKey(ctx, STORE_PAYMENT_KIND, order.id))?.outTradeNo ?? order.orderNo,
        payerOpenid: order.payerOpenid,
        company: order.shippingCompany,
        trackingNo: order.trackingNo,
        itemDesc,
        receiverPhone: String((order.address as { phone?: string }).phone ?? ''),
      });
    } catch (err) {
      await this.db.rows(ctx, 'UPDATE store_order SET shipping_upload_error = $2 WHERE id = $1', [orderId, (err as Error).message.slice(0, 500)]);
      throw err;
    }
    await this.db.rows(ctx, 'UPDATE store_order SET shipping_uploaded_at = now(), shipping_upload_error = NULL WHERE id = $1', [orderId]);
  }

  /** Shipped orders without a refund in progress become completed once AUTO_COMPLETE_DAYS have passed. */
  async completeDelivered(ctx: Ctx, now = new Date()): Promise<{ completed: number }> {
    const t = transition('complete');
    const done = await this.db.rows(
      ctx,
      `UPDATE store_order SET ${t.set} WHERE ${t.where} AND shipped_at <= $1::timestamptz - make_interval(days => $2) RETURNING id`,
      [now, AUTO_COMPLETE_DAYS],
    );
    return { completed: done.length };
  }

  async adminList(ctx: Ctx, filter: { status?: StoreOrder['status']; shipping?: 'not_shipped' | 'shipped_not_uploaded' | 'uploaded'; orderNo?: string }): Promise<AdminOrderView[]> {
    const qb = this.db.repo(ctx, StoreOrder).createQueryBuilder('o').orderBy('o.created_at', 'DESC').take(200);
    if (filter.orderNo) qb.andWhere('o.order_no = :orderNo', { orderNo: filter.orderNo });
    if (filter.status) qb.andWhere('o.status = :status', { status: filter.status });
    if (filter.shipping === 'not_shipped') qb.andWhere("o.status = 'paid'");
    if (filter.shipping === 'shipped_not_uploaded') qb.andWhere('o.shipped_at IS NOT NULL AND o.shipping_uploaded_at IS NULL');
    if (filter.shipping === 'uploaded') qb.andWhere('o.shipping_uploaded_at IS NOT NULL');
    return this.adminViews(ctx, await qb.getMany());
  }

  async adminDetail(ctx: Ctx, orderId: string): Promise<AdminOrderView> {
    return (await this.adminViews(ctx, [await this.adminOrder(ctx, orderId)]))[0]!;
  }

  private async adminOrder(ctx: Ctx, orderId: string): Promise<StoreOrder> {
    const order = await this.orders.findByIdOrNo(ctx, orderId);
    if (!order) throw notFound('order_not_found', 'No such order');
    return order;
  }

  /** The receiver in full; the routes mask it for roles that do not ship (SHIPPING_ROLES). */
  private async adminViews(ctx: Ctx, orders: StoreOrder[]): Promise<AdminOrderView[]> {
    const views = await this.orders.views(ctx, orders, false);
    return views.map((v, i) => {
      const o = orders[i]!;
      return {
        ...v,
        memberId: o.memberId,
        transactionId: o.transactionId,
        shippingState: o.shippingUploadedAt ? 'uploaded' : o.shippedAt ? 'shipped_not_uploaded' : 'not_shipped',
        shippingUploadError: o.shippingUploadError,
        refund: o.refundStatus ? { status: o.refundStatus, reason: o.refundReason, error: o.refundError, refundedAt: o.refundedAt ? new Date(o.refundedAt).toISOString() : null } : null,
        pointsAwarded: o.pointsAwarded,
        pointsClawedBack: o.pointsClawedBack,
      };
    });
  }
}
