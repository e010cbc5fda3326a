import { randomUUID } from 'node:crypto';
import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid, notFound } from '../../infra/errors';
import { MallItem, MallRedemption } from './store.entity';
import type { StorePoints } from './store.ports';
import { AddressService, addressView } from './addresses.service';

export interface MallItemInput {
  kind: MallItem['kind'];
  name: string;
  description?: string;
  imageUrl?: string | null;
  pointsCost: number;
  stock: number;
  perMemberLimit?: number | null;
  couponValueFen?: number | null;
  couponMinSpendFen?: number | null;
  couponValidDays?: number | null;
  shippingCardPeriod?: 'monthly' | 'yearly' | null;
  active?: boolean;
  sort?: number;
}

export interface RedemptionResult {
  id: string;
  itemId: string;
  pointsSpent: number;
  pointsBalance: number;
  status: MallRedemption['status'];
}

/** The points mall: reward items with stock and per-member limits, paid for through the points ledger. */
export class MallService {
  constructor(
    private readonly db: Db,
    private readonly points: StorePoints,
    private readonly addresses: AddressService,
  ) {}

  async itemsForMember(ctx: Ctx, memberId: string) {
    const list = await this.db.rows<Record<string, any>>(ctx, `SELECT i.*, COALESCE(c.redeemed, 0)::int AS redeemed_by_me
       FROM mall_item i LEFT JOIN mall_member_count c ON c.item_id = i.id AND c.member_id = $1
       WHERE i.active ORDER BY i.sort DESC, i.created_at DESC`,
      [memberId],
    );
    return list.map((i) => ({
      id: i.id as string,
      kind: i.kind as MallItem['kind'],
      name: i.name as string,
      description: i.description as string,
      imageUrl: i.image_url as string | null,
      pointsCost: i.points_cost as number,
      stock: i.stock as number,
      perMemberLimit: i.per_member_limit as number | null,
      redeemedByMe: i.redeemed_by_me as number,
      needsAddress: i.kind === 'gift',
    }));
  }

  /**
   * One transaction: the redemption row (idempotent by key), one unit of stock (conditional update), the member's
   * count under the limit (conditional upsert), the points (ledger debit), then the reward itself.
   */
  async redeem(ctx: Ctx, memberId: string, itemId: string, addressId: string | undefined, idempotencyKey: string): Promise<RedemptionResult> {
    return this.db.transaction(ctx, async (tx) => {
      const item = await this.db.repo(tx, MallItem).findOneBy({ id: itemId, active: true });
      if (!item) throw notFound('item_not_found', 'No such reward');
      let address: Record<string, unknown> | null = null;
      if (item.kind === 'gift') {
        if (!addressId) throw invalid('address_required', 'A gift needs a delivery address');
        address = { ...addressView(await this.addresses.get(tx, memberId, addressId), false) };
      }
      const id = randomUUID();
      const inserted = await this.db.rows(tx, `INSERT INTO mall_redemption (id, member_id, item_id, idempotency_key, points_spent, status, address)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (member_id, idempotency_key) DO NOTHING RETURNING id`,
        [id, memberId, itemId, idempotencyKey, item.pointsCost, item.kind === 'gift' ? 'pending_shipment' : 'fulfilled', address],
      );
      if (!inserted.length) return this.replay(tx, memberId, itemId, idempotencyKey);

      const [unit] = await this.db.rows(tx, 'UPDATE mall_item SET stock = stock - 1 WHERE id = $1 AND active AND stock > 0 RETURNING id', [itemId]);
      if (!unit) throw conflict('out_of_stock', 'This reward is gone');
      const [counted] = await this.db.rows(tx, `INSERT INTO mall_member_count (member_id, item_id, redeemed) SELECT $1, $2, 1 WHERE $3::int IS NULL OR $3::int >= 1
         ON CONFLICT (member_id, item_id) DO UPDATE SET redeemed = mall_member_count.redeemed + 1
         WHERE $3::int IS NULL OR mall_member_count.redeemed < $3::int RETURNING redeemed`,
        [memberId, itemId, item.perMemberLimit],
      );
      if (!counted) throw conflict('limit_reached', `At most ${item.perMemberLimit} per member`);
      const balance = await this.points.debit(tx, memberId, item.pointsCost, `mall:${id}`, `兑换 ${item.name}`);
      await this.fulfil(tx, memberId, item, id);
      return { id, itemId, pointsSpent: item.pointsCost, pointsBalance: balance, status: item.kind === 'gift' ? 'pending_shipment' : 'fulfilled' };
    });
  }

  private async replay(ctx: Ctx, memberId: string, itemId: string, idempotencyKey: string): Promise<RedemptionResult> {
    const r = await this.db.repo(ctx, MallRedemption).findOneByOrFail({ memberId, idempotencyKey });
    if (r.itemId !== itemId) throw conflict('idempotency_key_reused', 'This Idempotency-Key was used for another redemption');
    return { id: r.id, itemId: r.itemId, pointsSpent: r.pointsSpent, pointsBalance: await this.points.balance(ctx, memberId), status: r.status };
  }

  private async fulfil(tx: Ctx, memberId: string, item: MallItem, redemptionId: string): Promise<void> {
    if (item.kind === 'coupon') {
      await this.db.rows(tx, `INSERT INTO member_coupon (member_id, name, value_fen, min_spend_fen, redemption_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(days => $6))`,
        [memberId, item.name, item.couponValueFen, item.couponMinSpendFen, redemptionId, item.couponValidDays],
      );
    } else if (item.kind === 'shipping_card') {
      // A second card extends the first instead of running alongside it.
      await this.db.rows(tx, `WITH start AS (
           SELECT GREATEST(now(), COALESCE((SELECT max(expires_at) FROM member_shipping_card WHERE member_id = $1), now())) AS at
         )
         INSERT INTO member_shipping_card (member_id, period, starts_at, expires_at, redemption_id)
         SELECT $1, $2, at, at + CASE WHEN $2 = 'yearly' THEN interval '1 year' ELSE interval '1 month' END, $3 FROM start`,
        [memberId, item.shippingCardPeriod, redemptionId],
      );
    }
  }

  /** The member's own redemptions, newest first (a gift shows its parcel once shipped). */
  async redemptionsOf(ctx: Ctx, memberId: string) {
    const list = await this.db.rows<{ id: string; item_id: string; name: string; kind: string; points_spent: number; status: string; shipping_company: string | null; tracking_no: string | null; created_at: Date }>(ctx, `SELECT r.id, r.item_id, i.name, i.kind, r.points_spent, r.status, r.shipping_company, r.tracking_no, r.created_at
       FROM mall_redemption r JOIN mall_item i ON i.id = r.item_id WHERE r.member_id = $1 ORDER BY r.created_at DESC LIMIT 100`,
      [memberId],
    );
    return list.map((r) => ({
      id: r.id,
      itemId: r.item_id,
      name: r.name,
      kind: r.kind,
      pointsSpent: r.points_spent,
      status: r.status,
      shipping: r.shipping_company && r.tracking_no ? { company: r.shipping_company, trackingNo: r.tracking_no } : null,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  /** The member's coupons and free-shipping card, for the checkout page. */
  async walletOf(ctx: Ctx, memberId: string) {
    const coupons = await this.db.rows<{ id: string; name: string; value_fen: number; min_spend_fen: number; expires_at: Date }>(ctx, 'SELECT id, name, value_fen, min_spend_fen, expires_at FROM member_coupon WHERE member_id = $1 AND used_order_id IS NULL AND expires_at > now() ORDER BY expires_at',
      [memberId],
    );
    const [card] = await this.db.rows<{ expires_at: Date }>(ctx, 'SELECT max(expires_at) AS expires_at FROM member_shipping_card WHERE member_id = $1 AND expires_at > now()',
      [memberId],
    );
    return {
      coupons: coupons.map((c) => ({ id: c.id, name: c.name, valueFen: c.value_fen, minSpendFen: c.min_spend_fen, expiresAt: new Date(c.expires_at).toISOString() })),
      shippingCardUntil: card?.expires_at ? new Date(card.expires_at).toISOString() : null,
    };
  }

  // The merchant's side.

  async adminItems(ctx: Ctx): Promise<MallItem[]> {
    return this.db.repo(ctx, MallItem).find({ order: { sort: 'DESC', createdAt: 'DESC' } });
  }

  async createItem(ctx: Ctx, input: MallItemInput): Promise<MallItem> {
    checkKind(input);
    const saved = await this.db.repo(ctx, MallItem).save({
      description: '',
      imageUrl: null,
      perMemberLimit: null,
      couponValueFen: null,
      couponMinSpendFen: null,
      couponValidDays: null,
      shippingCardPeriod: null,
      active: true,
      sort: 0,
      ...input,
    });
    return this.db.repo(ctx, MallItem).findOneByOrFail({ id: saved.id });
  }

  /** Stock moves only by stockDelta, relative to what redemptions left. */
  async updateItem(ctx: Ctx, id: string, input: Partial<Omit<MallItemInput, 'kind' | 'stock'>> & { stockDelta?: number }): Promise<MallItem> {
    const { stockDelta, ...fields } = input;
    return this.db.transaction(ctx, async (tx) => {
      const current = await this.db.repo(tx, MallItem).findOneBy({ id });
      if (!current) throw notFound('item_not_found', 'No such reward');
      checkKind({ ...current, ...fields });
      if (Object.keys(fields).length) await this.db.repo(tx, MallItem).update({ id }, fields);
      if (stockDelta) {
        const [ok] = await this.db.rows(tx, 'UPDATE mall_item SET stock = stock + $2 WHERE id = $1 AND stock + $2 >= 0 RETURNING id', [id, stockDelta]);
        if (!ok) throw invalid('stock_negative', 'Stock cannot go below zero');
      }
      return this.db.repo(tx, MallItem).findOneByOrFail({ id });
    });
  }

  async adminRedemptions(ctx: Ctx, status: MallRedemption['status'] | undefined): Promise<MallRedemption[]> {
    return this.db.repo(ctx, MallRedemption).find({ where: status ? { status } : {}, order: { createdAt: 'DESC' }, take: 200 });
  }

  async shipGift(ctx: Ctx, id: string, company: string, trackingNo: string): Promise<MallRedemption> {
    const [done] = await this.db.rows(ctx, "UPDATE mall_redemption SET status = 'shipped', shipping_company = $2, tracking_no = $3 WHERE id = $1 AND status = 'pending_shipment' RETURNING id",
      [id, company, trackingNo],
    );
    const r = await this.db.repo(ctx, MallRedemption).findOneBy({ id });
    if (!r) throw notFound('redemption_not_found', 'No such redemption');
    if (!done) throw conflict('not_pending_shipment', 'Only a gift waiting for shipment can be shipped');
    return r;
  }
}

function checkKind(i: Partial<MallItemInput>): void {
  if (i.kind === 'coupon' && (i.couponValueFen == null || i.couponMinSpendFen == null || i.couponValidDays == null)) {
    throw invalid('coupon_fields_required', 'A coupon needs couponValueFen, couponMinSpendFen and couponValidDays');
  }
  if (i.kind === 'shipping_card' && !i.shippingCardPeriod) throw invalid('period_required', 'A free-shipping card needs shippingCardPeriod');
}
