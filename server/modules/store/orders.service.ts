import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid, isUniqueViolation, notFound, unavailable } from '../../infra/errors';
import type { FlowDefinition, FlowRunner } from '../../infra/flows';
import { shanghaiDay } from '../../infra/time';
import { StoreOrder, StoreOrderItem } from './store.entity';
import type { MemberTiers, PaymentParams, PointsHistoryPage, StorePoints } from './store.ports';
import type { PaymentsService } from '../payments';
import { labelHistory } from './points-reasons';
import { AddressService, addressView, type AddressView } from './addresses.service';
import type { CatalogService } from './catalog.service';
import { transition } from './order-lifecycle';
import { returnStock } from './order-returns';
import { mergeLines, priceOrder, type OrderLine, type OrderPrice, type PricingRules } from './order-pricing';

export interface StoreRules extends PricingRules {
  /** Unpaid orders are cancelled after this many minutes (WeChat closes the prepay at the same moment). */
  unpaidMinutes: number;
}

export interface CheckoutInput {
  items: Array<{ skuId: string; quantity: number }>;
  addressId?: string;
  pointsToUse: number;
  couponId?: string;
}

export interface OrderView {
  id: string;
  orderNo: string;
  status: StoreOrder['status'];
  items: Array<{ skuId: string; title: string; skuName: string; quantity: number; unitPriceFen: number }>;
  goodsFen: number;
  discountFen: number;
  pointsUsed: number;
  pointsDiscountFen: number;
  shippingFen: number;
  payableFen: number;
  address: AddressView | null;
  createdAt: string;
  paidAt: string | null;
  expiresAt: string;
  shipping: { company: string; trackingNo: string } | null;
}

export const EXPIRE_UNPAID = 'store.expire-unpaid-orders';
export const CANCEL_FLOW = 'store.cancel-order';

/** A store order's number: 16 digits (yyMMdd + 10 digits), or the 32 hex digits of older orders. */
export const isStoreOrderNo = (no: string): boolean => /^(?:\d{16}|[0-9a-f]{32})$/.test(no);
/** Store orders are payment intents of this kind (key: the order id); their out_trade_no is S + the order number. */
export const STORE_PAYMENT_KIND = 'store_order';
export const STORE_TRADE_PREFIX = 'S';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** The member's side of store orders: checkout, paying, cancelling, and the sweep of unpaid orders. */
export class OrderService {
  constructor(
    private readonly db: Db,
    private readonly points: StorePoints,
    private readonly tiers: MemberTiers,
    private readonly payments: PaymentsService,
    private readonly addresses: AddressService,
    private readonly catalog: CatalogService,
    private readonly rules: StoreRules,
    private readonly log: FastifyBaseLogger,
    private readonly flows: FlowRunner,
  ) {}

  /** The member's cancel: close at WeChat, then cancel here (registered by registerStorePayments). */
  cancelFlow(): FlowDefinition<{ intentId: string; reason: string }> {
    return {
      name: CANCEL_FLOW,
      steps: [
        // Closing at WeChat cannot be undone; nothing before it needs undoing.
        { name: 'close-at-wechat', run: async (c, s) => void (await this.payments.closeAtWeChat(c, s.intentId)) },
        { name: 'cancel-order', run: async (c, s) => void (await this.payments.markClosed(c, s.intentId, s.reason)) },
      ],
    };
  }

  private pricing() {
    return { tiers: this.tiers, points: this.points, rules: this.rules };
  }

  /**
   * The order number people read and WeChat Pay knows (out_trade_no): the Shanghai date and ten random digits,
   * 2612041234567890; the unique index on order_no decides, and checkout draws again on a clash.
   */
  protected newOrderNo(now = new Date()): string {
    return `${shanghaiDay(now).slice(2).replace(/-/g, '')}${String(randomInt(0, 10_000_000_000)).padStart(10, '0')}`;
  }

  /** What the order of this body would carry, computed exactly as checkout computes it; nothing is reserved. */
  async quote(ctx: Ctx, memberId: string, input: CheckoutInput): Promise<OrderPrice> {
    const lines = mergeLines(input.items);
    return priceOrder(this.db, ctx, this.pricing(), memberId, { lines, pointsToUse: input.pointsToUse, couponId: input.couponId });
  }

  async checkout(ctx: Ctx, member: { memberId: string; mpOpenid: string }, input: CheckoutInput, idempotencyKey: string) {
    const lines = mergeLines(input.items);
    if (!input.addressId) throw invalid('address_required', 'Choose a delivery address');
    const requestHash = createHash('sha256').update(JSON.stringify({ ...input, items: lines })).digest('hex');
    // A random order number that another order took already: the whole transaction again with a new one.
    for (let attempt = 1; ; attempt++) {
      try {
        const { order, view } = await this.db.transaction(ctx, (tx) => this.placeInTx(tx, member, input, lines, idempotencyKey, requestHash));
        return { order: view, payment: await this.paymentFor(order) };
      } catch (err) {
        if (attempt >= 5 || !isUniqueViolation(err, 'store_order_order_no_key')) throw err;
      }
    }
  }

  private async placeInTx(
    tx: Ctx,
    member: { memberId: string; mpOpenid: string },
    input: CheckoutInput,
    lines: OrderLine[],
    idempotencyKey: string,
    requestHash: string,
  ): Promise<{ order: StoreOrder; view: OrderView }> {
    const { memberId } = member;
    // A repeated request answers the first order before anything is priced again (its coupon and points are spent by now).
    const replay = async () => {
      const first = await this.db.repo(tx, StoreOrder).findOneBy({ memberId, idempotencyKey });
      if (first && first.requestHash !== requestHash) throw conflict('idempotency_key_reused', 'This Idempotency-Key was used for another order');
      return first ? { order: first, view: await this.view(tx, first) } : null;
    };
    const earlier = await replay();
    if (earlier) return earlier;
    const address = addressView(await this.addresses.get(tx, memberId, input.addressId!), false);
    const price = await priceOrder(this.db, tx, this.pricing(), memberId, { lines, pointsToUse: input.pointsToUse, couponId: input.couponId });

    const id = randomUUID();
    const orderNo = this.newOrderNo();
    const expiresAt = new Date(Date.now() + this.rules.unpaidMinutes * 60_000);
    const inserted = await this.db.rows(
      tx,
      `INSERT INTO store_order (id, order_no, member_id, payer_openid, idempotency_key, request_hash, status, goods_fen, discount_fen,
         coupon_id, coupon_fen, points_used, points_discount_fen, shipping_fen, payable_fen, address, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending_payment', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (member_id, idempotency_key) DO NOTHING RETURNING id`,
      [id, orderNo, memberId, member.mpOpenid, idempotencyKey, requestHash, price.goodsFen, price.discountFen, price.couponId,
        price.couponFen, price.pointsToUse, price.pointsDiscountFen, price.shippingFen, price.payableFen, address, expiresAt],
    );
    if (!inserted.length) return (await replay())!;
    // Sorted, so two checkouts of the same SKUs lock them in the same order and never deadlock.
    for (const item of [...price.items].sort((a, b) => a.skuId.localeCompare(b.skuId))) {
      const [left] = await this.db.rows(tx, 'UPDATE product_sku SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING stock', [item.skuId, item.quantity]);
      if (!left) throw conflict('out_of_stock', `${item.title} ${item.skuName} is sold out`, { skuId: item.skuId });
      await this.db.repo(tx, StoreOrderItem).insert({
        orderId: id,
        skuId: item.skuId,
        productId: item.productId,
        title: item.title,
        skuName: item.skuName,
        quantity: item.quantity,
        listPriceFen: item.listPriceFen,
        unitPriceFen: item.unitPriceFen,
      });
    }
    if (price.couponId) {
      const [used] = await this.db.rows(tx, 'UPDATE member_coupon SET used_order_id = $1 WHERE id = $2 AND used_order_id IS NULL RETURNING id', [id, price.couponId]);
      if (!used) throw conflict('coupon_invalid', 'This coupon was just used');
    }
    if (price.pointsToUse > 0) await this.points.debit(tx, memberId, price.pointsToUse, `order:${id}:points`, '积分抵扣');
    await this.catalog.removeFromCart(tx, memberId, lines.map((l) => l.skuId));
    await this.payments.createIntent(tx, {
      kind: STORE_PAYMENT_KIND,
      key: id,
      memberId,
      payerOpenid: member.mpOpenid,
      amountFen: price.payableFen,
      description: describe(price.items),
      expiresAt,
      tradeNo: orderNo,
    });
    const created = await this.db.repo(tx, StoreOrder).findOneByOrFail({ id });
    return { order: created, view: await this.view(tx, created) };
  }

  /** Pays an unpaid order again (the member closed the payment sheet). */
  async pay(ctx: Ctx, memberId: string, orderId: string): Promise<{ payment: PaymentParams }> {
    const order = await this.own(ctx, memberId, orderId);
    if (order.status !== 'pending_payment' || new Date(order.expiresAt).getTime() <= Date.now()) {
      throw conflict('order_not_payable', 'This order can no longer be paid');
    }
    return { payment: await this.paymentFor(order) };
  }

  private async paymentFor(order: StoreOrder): Promise<PaymentParams> {
    return this.payments.paymentParams({}, (await this.intentOf({}, order.id)).id);
  }

  private async intentOf(ctx: Ctx, orderId: string) {
    const intent = await this.payments.intentByKey(ctx, STORE_PAYMENT_KIND, orderId);
    if (!intent) throw notFound('order_not_found', 'This order has no payment');
    return intent;
  }

  /**
   * The member's cancel is a flow (close at WeChat, then cancel here), driven at once: a crash between the two
   * resumes at the second; a payment that beat the close undoes it (409 `order_paid`).
   */
  async cancel(ctx: Ctx, memberId: string, orderId: string): Promise<OrderView> {
    const order = await this.own(ctx, memberId, orderId);
    if (order.status !== 'cancelled') {
      if (order.status !== 'pending_payment') throw conflict('order_not_cancellable', 'Only an unpaid order can be cancelled');
      const intent = await this.payments.intentByKey(ctx, STORE_PAYMENT_KIND, order.id);
      if (!intent) await this.db.transaction(ctx, (tx) => this.cancelInTx(tx, order.id, 'member'));
      else {
        const started = await this.flows.start(ctx, CANCEL_FLOW, `${order.id}:${intent.id}`, { intentId: intent.id, reason: 'member' });
        const run = await this.flows.run(started.id, { retryCount: 0, retryLimit: 1 }).catch((err) => {
          this.log.warn({ err, orderNo: order.orderNo }, 'cancel not finished now: its job carries on');
          throw unavailable('payment_unavailable', 'WeChat Pay is not reachable; try again');
        });
        if (run.status === 'undone') {
          if (run.error?.includes('paid')) throw conflict('order_paid', 'This order has just been paid');
          throw unavailable('payment_unavailable', 'The order could not be cancelled; try again');
        }
      }
    }
    return this.view(ctx, await this.own(ctx, memberId, orderId));
  }

  /**
   * Closes the payment (at WeChat first: once closed it cannot be paid); the payment's close cancels the order in
   * its transaction (onPaymentClosed), so giving the stock back is safe.
   */
  private async closeAndCancel(ctx: Ctx, order: Pick<StoreOrder, 'id'>, reason: string): Promise<boolean> {
    const intent = await this.payments.intentByKey(ctx, STORE_PAYMENT_KIND, order.id);
    if (!intent) return this.db.transaction(ctx, (tx) => this.cancelInTx(tx, order.id, reason));
    return this.payments.close(ctx, intent.id, reason);
  }

  /** The order's side of a closed payment: cancelled, its stock, coupon and points back (once: a conditional update). */
  async cancelInTx(tx: Ctx, orderId: string, reason: string): Promise<boolean> {
    const t = transition('cancel');
    const [o] = await this.db.rows<{ member_id: string; points_used: number }>(
      tx,
      `UPDATE store_order SET ${t.set}, cancelled_at = now(), cancel_reason = $2 WHERE id = $1 AND ${t.where} RETURNING member_id, points_used`,
      [orderId, reason],
    );
    if (!o) return false;
    await returnStock(this.db, tx, orderId);
    await this.db.rows(tx, 'UPDATE member_coupon SET used_order_id = NULL WHERE used_order_id = $1', [orderId]);
    if (o.points_used > 0) await this.points.credit(tx, o.member_id, o.points_used, `order:${orderId}:points-return`, '取消订单退回积分');
    return true;
  }

  /** The sweep: unpaid orders past their time are closed at WeChat and cancelled, stock and points back. */
  async expireUnpaid(ctx: Ctx, now = new Date()): Promise<{ cancelled: number }> {
    const due = await this.db.rows<{ id: string; order_no: string }>(
      ctx,
      "SELECT id, order_no FROM store_order WHERE status = 'pending_payment' AND expires_at <= $1 ORDER BY expires_at LIMIT 500",
      [now],
    );
    let cancelled = 0;
    for (const o of due) {
      try {
        if (await this.closeAndCancel(ctx, { id: o.id }, 'expired')) cancelled++;
      } catch (err) {
        this.log.warn({ err, orderNo: o.order_no }, 'unpaid order not cancelled'); // paid meanwhile, or WeChat down: next sweep
      }
    }
    return { cancelled };
  }

  /** 确认收货: the member says the parcel arrived; a shipped order without a refund in progress becomes completed. */
  async confirmReceipt(ctx: Ctx, memberId: string, orderId: string): Promise<OrderView> {
    const order = await this.own(ctx, memberId, orderId);
    if (order.status !== 'completed') {
      const t = transition('complete');
      const [done] = await this.db.rows(ctx, `UPDATE store_order SET ${t.set} WHERE id = $1 AND ${t.where} RETURNING id`, [order.id]);
      if (!done) throw conflict('order_not_receivable', 'Only a shipped order without a refund in progress can be confirmed received');
    }
    return this.view(ctx, await this.own(ctx, memberId, orderId));
  }

  /** The member's points history with reason codes, Chinese labels and the readable numbers of store orders. */
  labelPointsHistory(ctx: Ctx, page: PointsHistoryPage) {
    return labelHistory(this.db, ctx, page);
  }

  async list(ctx: Ctx, memberId: string, status: StoreOrder['status'] | undefined): Promise<OrderView[]> {
    const orders = await this.db.repo(ctx, StoreOrder).find({ where: status ? { memberId, status } : { memberId }, order: { createdAt: 'DESC' }, take: 100 });
    return this.views(ctx, orders);
  }

  async detail(ctx: Ctx, memberId: string, orderId: string): Promise<OrderView> {
    return this.view(ctx, await this.own(ctx, memberId, orderId));
  }

  /** Another member's order is indistinguishable from a missing one. */
  private async own(ctx: Ctx, memberId: string, orderId: string): Promise<StoreOrder> {
    const order = await this.findByIdOrNo(ctx, orderId);
    if (!order || order.memberId !== memberId) throw notFound('order_not_found', 'No such order');
    return order;
  }

  /** An order by its id or by the order number a person reads out (customer service types it). */
  async findByIdOrNo(ctx: Ctx, idOrNo: string): Promise<StoreOrder | null> {
    if (/^[0-9a-f-]{36}$/i.test(idOrNo)) return this.db.repo(ctx, StoreOrder).findOneBy({ id: idOrNo });
    if (isStoreOrderNo(idOrNo)) return this.db.repo(ctx, StoreOrder).findOneBy({ orderNo: idOrNo });
    return null;
  }

  async view(ctx: Ctx, order: StoreOrder): Promise<OrderView> {
    return (await this.views(ctx, [order]))[0]!;
  }

  async views(ctx: Ctx, orders: StoreOrder[], masked = true): Promise<OrderView[]> {
    if (!orders.length) return [];
    const items = await this.db.repo(ctx, StoreOrderItem).find({ where: orders.map((o) => ({ orderId: o.id })), order: { title: 'ASC' } });
    return orders.map((o) => ({
      id: o.id,
      orderNo: o.orderNo,
      status: o.status,
      items: items.filter((i) => i.orderId === o.id).map((i) => ({ skuId: i.skuId, title: i.title, skuName: i.skuName, quantity: i.quantity, unitPriceFen: i.unitPriceFen })),
      goodsFen: o.goodsFen,
      discountFen: o.discountFen,
      pointsUsed: o.pointsUsed,
      pointsDiscountFen: o.pointsDiscountFen,
      shippingFen: o.shippingFen,
      payableFen: o.payableFen,
      address: o.address ? addressView(o.address as unknown as AddressView, masked) : null,
      createdAt: iso(o.createdAt)!,
      paidAt: iso(o.paidAt),
      expiresAt: iso(o.expiresAt)!,
      shipping: o.shippingCompany && o.trackingNo ? { company: o.shippingCompany, trackingNo: o.trackingNo } : null,
    }));
  }
}

/** The goods line on the WeChat Pay bill: "龙井茶 等3件". */
function describe(items: ReadonlyArray<{ title: string }>): string {
  const first = items[0]?.title ?? '商品';
  return (items.length > 1 ? `${first} 等${items.length}件` : first).slice(0, 127);
}
