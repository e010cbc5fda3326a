import type { Cart, ProductDetail } from './api-types';
import { formatFen } from './money';

// One point is worth one fen at checkout; the server's order is the figure that is charged.
export const FEN_PER_POINT = 1;
// WeChat Pay needs at least one fen, so points never cover the whole order.
const MIN_PAYABLE_FEN = 1;

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

export interface CheckoutInput {
  lines: CheckoutLine[];
  pointsBalance: number;
  usePoints: boolean;
  freeShipping: boolean;
}

export interface CheckoutSummary {
  goodsFen: number;
  memberDiscountFen: number;
  maxPoints: number;
  pointsToUse: number;
  pointsDiscountFen: number;
  payableFen: number;
  goodsText: string;
  memberDiscountText: string;
  pointsDiscountText: string;
  payableText: string;
  shippingText: string;
  pointsHint: string;
}

export function computeCheckout(input: CheckoutInput): CheckoutSummary {
  let goodsFen = 0;
  let memberDiscountFen = 0;
  for (const line of input.lines) {
    goodsFen += line.priceFen * line.quantity;
    memberDiscountFen += Math.max(0, line.priceFen - line.memberPriceFen) * line.quantity;
  }
  const afterDiscount = goodsFen - memberDiscountFen;
  const coverableFen = Math.max(0, afterDiscount - MIN_PAYABLE_FEN);
  const maxPoints = Math.max(0, Math.min(input.pointsBalance, Math.floor(coverableFen / FEN_PER_POINT)));
  const pointsToUse = input.usePoints ? maxPoints : 0;
  const pointsDiscountFen = pointsToUse * FEN_PER_POINT;
  const payableFen = afterDiscount - pointsDiscountFen;
  return {
    goodsFen,
    memberDiscountFen,
    maxPoints,
    pointsToUse,
    pointsDiscountFen,
    payableFen,
    goodsText: formatFen(goodsFen),
    memberDiscountText: `-${formatFen(memberDiscountFen)}`,
    pointsDiscountText: `-${formatFen(pointsDiscountFen)}`,
    payableText: formatFen(payableFen),
    shippingText: input.freeShipping ? '包邮' : '以订单结算为准',
    pointsHint: maxPoints > 0 ? `可用 ${maxPoints} 积分抵 ${formatFen(maxPoints * FEN_PER_POINT)}` : `共 ${input.pointsBalance} 积分，本单不可抵扣`,
  };
}
