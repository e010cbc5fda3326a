import type { FastifyBaseLogger } from 'fastify';
import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid, notFound, unavailable } from '../../infra/errors';
import type { JobQueue } from '../../infra/queue';
import { StoreOrder, StoreOrderItem } from './store.entity';
import type { MemberTiers, StorePaymentEvents, StorePayments, StorePoints } from './store.ports';
import type { OrderService, OrderView } from './orders.service';

export const UPLOAD_SHIPPING = 'store.upload-shipping-info';
export const REFUND_LATE_PAYMENT = 'store.refund-late-payment';
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
export class FulfilmentService implements StorePaymentEvents {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly points: StorePoints,
    private readonly tiers: MemberTiers,
    private readonly payments: StorePayments,
    private readonly orders: OrderService,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Paid exactly once: the conditional update lets one delivery through; the points key makes the award once.
   * Runs inside the dispatcher's transaction through ctx only; calls to WeChat go to the queue.
   */
  async onPaymentSucceeded(ctx: Ctx, e: { outTradeNo: string; transactionId: string; amountFen: number; payerOpenid: string }): Promise<void> {
    await this.db.transaction(ctx, async (tx) => {
      const order = await this.db.repo(tx, StoreOrder).findOneBy({ orderNo: e.outTradeNo });
      if (!order) throw notFound('order_not_found', `No order ${e.outTradeNo}`);
      if (e.amountFen !== order.payableFen) {
        this.log.error({ orderNo: order.orderNo, paid: e.amountFen, payable: order.payableFen }, 'payment amount differs from the order');
        throw invalid('amount_mismatch', 'The paid amount differs from the order');
      }
      if (order.status === 'pending_payment') {
        const tier = await this.tiers.tierOf(tx, order.memberId);
        const award = Math.floor((order.payableFen * tier.pointsMultiplier) / 100);
        const [paid] = await this.db.rows(tx, `UPDATE store_order SET status = 'paid', paid_at = now(), transaction_id = $2, points_awarded = $3
           WHERE id = $1 AND status = 'pending_payment' RETURNING id`,
          [order.id, e.transactionId, award],
        );
        if (paid && award > 0) await this.points.credit(tx, order.memberId, award, `order:${order.id}:award`, `购物奖励 ${order.orderNo}`);
        return;
      }
      if (order.status === 'cancelled' && !order.transactionId) {
        // Paid after it was cancelled (the close did not reach WeChat): the money goes back in full.
        const [marked] = await this.db.rows(tx, `UPDATE store_order SET transaction_id = $2, out_refund_no = 'R' || order_no, refund_status = 'processing',
             refund_reason = 'paid after cancellation' WHERE id = $1 AND transaction_id IS NULL RETURNING id`,
          [order.id, e.transactionId],
        );
        if (marked) await this.queue.send(tx, REFUND_LATE_PAYMENT, { orderNo: order.orderNo }, { singletonKey: `late:${order.orderNo}` });
      }
    });
  }

  async onRefundFinished(ctx: Ctx, e: { outRefundNo: string; status: 'SUCCESS' | 'CLOSED' | 'ABNORMAL' }): Promise<void> {
    await this.db.transaction(ctx, async (tx) => {
      const [o] = await this.db.rows<{ id: string; member_id: string; status: string; shipped_at: Date | null; points_used: number; points_awarded: number }>(tx, "SELECT id, member_id, status, shipped_at, points_used, points_awarded FROM store_order WHERE out_refund_no = $1 AND refund_status = 'processing' FOR UPDATE",
        [e.outRefundNo],
      );
      if (!o) return; // unknown or already settled: a repeated notification
      if (e.status !== 'SUCCESS') {
        await this.db.rows(tx, "UPDATE store_order SET refund_status = 'failed', refund_error = $2 WHERE id = $1", [o.id, `refund ${e.status}`]);
        return;
      }
      const wasCancelled = o.status === 'cancelled';
      await this.db.rows(tx, `UPDATE store_order SET refund_status = 'succeeded', refunded_at = now(), status = CASE WHEN status = 'cancelled' THEN status ELSE 'refunded' END
         WHERE id = $1`,
        [o.id],
      );
      if (wasCancelled) return; // stock and points went back at cancellation
      if (!o.shipped_at) {
        await this.db.rows(tx, 'UPDATE product_sku s SET stock = s.stock + i.quantity FROM store_order_item i WHERE i.order_id = $1 AND s.id = i.sku_id', [o.id]);
      }
      if (o.points_used > 0) await this.points.credit(tx, o.member_id, o.points_used, `order:${o.id}:points-refund`, '退款退回积分');
      if (o.points_awarded > 0) {
        const taken = await this.points.clawback(tx, o.member_id, o.points_awarded, `order:${o.id}:award-clawback`, '退款扣回购物奖励');
        await this.db.rows(tx, 'UPDATE store_order SET points_clawed_back = $2 WHERE id = $1', [o.id, taken]);
      }
    });
  }

  async ship(ctx: Ctx, orderId: string, company: string, trackingNo: string): Promise<AdminOrderView> {
    await this.db.transaction(ctx, async (tx) => {
      const [shipped] = await this.db.rows(tx, `UPDATE store_order SET status = 'shipped', shipping_company = $2, tracking_no = $3, shipped_at = now()
         WHERE id = $1 AND status = 'paid' AND (refund_status IS NULL OR refund_status = 'failed') RETURNING id`,
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
      await this.payments.uploadShipping({
        transactionId: order.transactionId ?? undefined,
        outTradeNo: order.orderNo,
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
    const done = await this.db.rows(ctx, `UPDATE store_order SET status = 'completed'
       WHERE status = 'shipped' AND shipped_at <= $1::timestamptz - make_interval(days => $2) AND (refund_status IS NULL OR refund_status = 'failed')
       RETURNING id`,
      [now, AUTO_COMPLETE_DAYS],
    );
    return { completed: done.length };
  }

  /** A full refund started by the merchant; the notification settles it. A failed refund can be started again. */
  async refund(ctx: Ctx, orderId: string, reason: string): Promise<AdminOrderView> {
    const order = await this.adminOrder(ctx, orderId);
    const [started] = await this.db.rows(ctx, `UPDATE store_order SET out_refund_no = 'R' || order_no, refund_status = 'processing', refund_reason = $2, refund_error = NULL
       WHERE id = $1 AND status IN ('paid', 'shipped', 'completed') AND (refund_status IS NULL OR refund_status = 'failed') RETURNING id`,
      [orderId, reason],
    );
    if (!started) throw conflict('order_not_refundable', 'Only a paid order without a refund in progress can be refunded');
    await this.startRefund(ctx, order.orderNo);
    return this.adminDetail(ctx, orderId);
  }

  async startRefund(ctx: Ctx, orderNo: string): Promise<void> {
    const o = await this.db.repo(ctx, StoreOrder).findOneByOrFail({ orderNo });
    try {
      await this.payments.refund({ outTradeNo: o.orderNo, outRefundNo: o.outRefundNo!, refundFen: o.payableFen, totalFen: o.payableFen, reason: (o.refundReason ?? '').slice(0, 80) });
    } catch (err) {
      this.log.warn({ err, orderNo }, 'refund request failed');
      await this.db.rows(ctx, "UPDATE store_order SET refund_status = 'failed', refund_error = $2 WHERE id = $1 AND refund_status = 'processing'", [
        o.id,
        (err as Error).message.slice(0, 500),
      ]);
      throw unavailable('refund_failed', `WeChat Pay did not accept the refund: ${(err as Error).message}`);
    }
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
