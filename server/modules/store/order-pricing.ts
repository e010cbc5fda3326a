import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid, notFound } from '../../infra/errors';
import type { MemberTiers, StorePoints } from './store.ports';
import { memberPrice } from './member-price';

/** The shop's pricing rules (config: STORE_*). */
export interface PricingRules {
  /** Flat shipping fee of an order that ships at the member's cost. */
  shippingFen: number;
  /** Goods at or above this (after member prices) ship free. */
  freeShippingOverFen: number;
  /** What one point is worth at checkout. */
  pointValueFen: number;
  /** Points may pay at most this share of the goods (after member price and coupon). */
  pointsMaxPercent: number;
}

export interface OrderLine {
  skuId: string;
  quantity: number;
}

export interface PricedLine {
  skuId: string;
  productId: string;
  title: string;
  skuName: string;
  quantity: number;
  listPriceFen: number;
  unitPriceFen: number;
}

/** Why an order ships free: the tier's perk, a running 包邮卡, or goods over the threshold. */
export type FreeShippingReason = 'tier' | 'shipping_card' | 'threshold';

/** Every figure an order carries, as checkout will charge it. */
export interface OrderPrice {
  items: PricedLine[];
  /** List prices × quantities. */
  goodsFen: number;
  /** Goods at member prices. */
  memberGoodsFen: number;
  memberDiscountFen: number;
  couponId: string | null;
  couponFen: number;
  /** Member discount plus coupon. */
  discountFen: number;
  shippingFen: number;
  freeShipping: FreeShippingReason | null;
  freeShippingOverFen: number;
  pointsBalance: number;
  /** The most points this order takes: the share rule, one fen left to pay, and the balance. */
  maxPoints: number;
  pointsToUse: number;
  pointsDiscountFen: number;
  payableFen: number;
}

export interface PricingInput {
  lines: OrderLine[];
  pointsToUse: number;
  couponId?: string;
}

/**
 * The one computation of an order's money: the checkout quote shows it and order creation stores it, so what the
 * member sees before paying is what WeChat Pay charges. Read inside the order's transaction when placing one.
 */
export async function priceOrder(
  db: Db,
  ctx: Ctx,
  deps: { tiers: MemberTiers; points: StorePoints; rules: PricingRules },
  memberId: string,
  input: PricingInput,
): Promise<OrderPrice> {
  const { rules } = deps;
  const { lines } = input;
  const tier = await deps.tiers.tierOf(ctx, memberId);
  const skus = await db.rows<{ id: string; name: string; price_fen: number; stock: number; product_id: string; title: string }>(ctx, `SELECT s.id, s.name, s.price_fen, s.stock, p.id AS product_id, p.title FROM product_sku s JOIN product p ON p.id = s.product_id
     WHERE s.id = ANY($1::uuid[]) AND s.active AND p.active`,
    [lines.map((l) => l.skuId)],
  );
  const byId = new Map(skus.map((s) => [s.id, s]));
  if (lines.some((l) => !byId.has(l.skuId))) throw notFound('sku_not_found', 'A product in the order is no longer on sale');
  const short = lines.find((l) => byId.get(l.skuId)!.stock < l.quantity);
  if (short) {
    const s = byId.get(short.skuId)!;
    throw conflict('out_of_stock', `${s.title} ${s.name} is sold out`, { skuId: short.skuId });
  }
  const items: PricedLine[] = lines.map((l) => {
    const s = byId.get(l.skuId)!;
    return {
      skuId: l.skuId,
      productId: s.product_id,
      title: s.title,
      skuName: s.name,
      quantity: l.quantity,
      listPriceFen: s.price_fen,
      unitPriceFen: memberPrice(s.price_fen, tier.discountPercent),
    };
  });
  const goodsFen = items.reduce((sum, i) => sum + i.listPriceFen * i.quantity, 0);
  const memberGoodsFen = items.reduce((sum, i) => sum + i.unitPriceFen * i.quantity, 0);

  let couponFen = 0;
  if (input.couponId) {
    const [c] = await db.rows<{ value_fen: number; min_spend_fen: number }>(ctx, 'SELECT value_fen, min_spend_fen FROM member_coupon WHERE id = $1 AND member_id = $2 AND used_order_id IS NULL AND expires_at > now()',
      [input.couponId, memberId],
    );
    if (!c || memberGoodsFen < c.min_spend_fen) throw conflict('coupon_invalid', 'This coupon cannot be used for this order');
    couponFen = Math.min(c.value_fen, memberGoodsFen - 1);
  }

  let freeShipping: FreeShippingReason | null = null;
  if (tier.freeShipping) freeShipping = 'tier';
  else if ((await db.rows(ctx, 'SELECT 1 FROM member_shipping_card WHERE member_id = $1 AND starts_at <= now() AND expires_at > now() LIMIT 1', [memberId])).length) {
    freeShipping = 'shipping_card';
  } else if (memberGoodsFen >= rules.freeShippingOverFen) freeShipping = 'threshold';
  const shippingFen = freeShipping ? 0 : rules.shippingFen;

  const afterCoupon = memberGoodsFen - couponFen;
  // WeChat Pay needs at least one fen, so points never pay the whole goods.
  const ruleMax = Math.floor(Math.min(Math.floor((afterCoupon * rules.pointsMaxPercent) / 100), afterCoupon - 1) / rules.pointValueFen);
  if (input.pointsToUse > ruleMax) throw invalid('points_over_limit', `At most ${ruleMax} points can be used for this order`, { maxPoints: ruleMax });
  const pointsBalance = await deps.points.balance(ctx, memberId);
  if (input.pointsToUse > pointsBalance) {
    throw conflict('insufficient_points', `Not enough points: balance ${pointsBalance}, needs ${input.pointsToUse}`, { balance: pointsBalance });
  }
  const pointsDiscountFen = input.pointsToUse * rules.pointValueFen;
  const memberDiscountFen = goodsFen - memberGoodsFen;
  const discountFen = memberDiscountFen + couponFen;
  return {
    items,
    goodsFen,
    memberGoodsFen,
    memberDiscountFen,
    couponId: input.couponId ?? null,
    couponFen,
    discountFen,
    shippingFen,
    freeShipping,
    freeShippingOverFen: rules.freeShippingOverFen,
    pointsBalance,
    maxPoints: Math.max(0, Math.min(ruleMax, pointsBalance)),
    pointsToUse: input.pointsToUse,
    pointsDiscountFen,
    payableFen: goodsFen - discountFen - pointsDiscountFen + shippingFen,
  };
}

/** Same SKU twice becomes one line; at least one line, at most 99 of one item. */
export function mergeLines(items: OrderLine[]): OrderLine[] {
  const merged = new Map<string, number>();
  for (const i of items) merged.set(i.skuId, (merged.get(i.skuId) ?? 0) + i.quantity);
  const lines = [...merged].map(([skuId, quantity]) => ({ skuId, quantity }));
  if (!lines.length) throw invalid('empty_order', 'The order has no items');
  if (lines.some((l) => l.quantity > 99)) throw invalid('quantity_too_large', 'At most 99 of one item');
  return lines;
}
