import type { Cart, CheckoutQuote, FreeShippingReason, ProductDetail, WalletCoupon } from './api-types';
import { shanghaiDate } from '../utils/shanghai-time';
import { formatFen } from './money';

// One point is worth one fen at checkout; the server's order is the figure that is charged.
export const FEN_PER_POINT = 1;

export interface CheckoutLine {
  priceFen: number;
  memberPriceFen: number;
  quantity: number;
}

export interface CheckoutLineView extends CheckoutLine {
  skuId: string;
  title: string;
  skuName: string;
  unitText: string;
}

export function checkoutLinesFromCart(cart: Cart): CheckoutLineView[] {
  return cart.items.map((item) => ({
    skuId: item.skuId, title: item.title, skuName: item.skuName, quantity: item.quantity,
    priceFen: item.priceFen, memberPriceFen: item.memberPriceFen, unitText: formatFen(item.memberPriceFen),
  }));
}

// "Buy now" from a product page: one SKU, the quantity from the page (at least one).
export function checkoutLinesFromSku(product: ProductDetail, skuId: string, quantity: number): CheckoutLineView[] {
  const sku = product.skus.find((s) => s.id === skuId);
  if (!sku) return [];
  return [{
    skuId: sku.id, title: product.title, skuName: sku.name, quantity: Math.max(1, Math.floor(quantity) || 1),
    priceFen: sku.priceFen, memberPriceFen: sku.memberPriceFen, unitText: formatFen(sku.memberPriceFen),
  }];
}

export interface CheckoutSummary {
  payableFen: number;
  pointsToUse: number;
  couponId: string | null;
  maxPoints: number;
  goodsText: string;
  // Empty when there is nothing to show: no "-¥0.00" rows.
  memberDiscountText: string;
  couponText: string;
  pointsDiscountText: string;
  shippingText: string;
  // "再买 ¥70.00 包邮" while shipping is charged.
  freeShippingHint: string;
  payableText: string;
  pointsHint: string;
}

const FREE_SHIPPING_TEXT: Record<FreeShippingReason, string> = {
  tier: '包邮（会员权益）',
  shipping_card: '包邮（包邮卡）',
  threshold: '包邮',
};

const minus = (fen: number) => (fen > 0 ? `-${formatFen(fen)}` : '');

// The server's quote, worded: every figure is the server's, nothing is recomputed here.
export function checkoutSummary(quote: CheckoutQuote): CheckoutSummary {
  const short = quote.freeShippingOverFen - quote.memberGoodsFen;
  return {
    payableFen: quote.payableFen,
    pointsToUse: quote.pointsToUse,
    couponId: quote.couponId,
    maxPoints: quote.maxPoints,
    goodsText: formatFen(quote.goodsFen),
    memberDiscountText: minus(quote.memberDiscountFen),
    couponText: minus(quote.couponFen),
    pointsDiscountText: minus(quote.pointsDiscountFen),
    shippingText: quote.freeShipping ? FREE_SHIPPING_TEXT[quote.freeShipping] : formatFen(quote.shippingFen),
    freeShippingHint: !quote.freeShipping && short > 0 ? `再买 ${formatFen(short)} 包邮` : '',
    payableText: formatFen(quote.payableFen),
    pointsHint:
      quote.maxPoints > 0
        ? `可用 ${quote.maxPoints} 积分抵 ${formatFen(quote.maxPoints * FEN_PER_POINT)}`
        : `共 ${quote.pointsBalance} 积分，本单不可抵扣`,
  };
}

export interface CouponChoice {
  id: string;
  name: string;
  ruleText: string;
  expiresText: string;
  usable: boolean;
}

// Coupons of the wallet for this order: usable ones (min spend met by the goods at member prices) first.
export function couponChoices(coupons: WalletCoupon[], memberGoodsFen: number): CouponChoice[] {
  return coupons
    .map((c) => ({
      id: c.id,
      name: c.name,
      ruleText: c.minSpendFen > 0 ? `满${formatFen(c.minSpendFen)}减${formatFen(c.valueFen)}` : `无门槛减${formatFen(c.valueFen)}`,
      expiresText: `${shanghaiDate(c.expiresAt)} 到期`,
      usable: memberGoodsFen >= c.minSpendFen,
    }))
    .sort((a, b) => Number(b.usable) - Number(a.usable));
}
