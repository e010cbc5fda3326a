import type { Cart, CartItem, MallItem, ProductDetail, ProductSummary, Sku } from './api-types';
import { formatFen } from './money';

export interface ProductCardView {
  id: string;
  title: string;
  imageUrl: string;
  priceText: string;
  memberPriceText: string;
  hasMemberPrice: boolean;
  soldOut: boolean;
}

export function toProductCardView(p: ProductSummary): ProductCardView {
  return {
    id: p.id,
    title: p.title,
    imageUrl: p.imageUrl || '',
    priceText: formatFen(p.priceFen),
    memberPriceText: formatFen(p.memberPriceFen),
    hasMemberPrice: p.memberPriceFen < p.priceFen,
    soldOut: p.stock <= 0,
  };
}

export interface SkuView {
  id: string;
  name: string;
  priceText: string;
  memberPriceText: string;
  hasMemberPrice: boolean;
  stock: number;
  soldOut: boolean;
}

export interface ProductDetailView {
  id: string;
  title: string;
  description: string;
  images: string[];
  skus: SkuView[];
  lowestMemberPriceText: string;
  // False when no SKU is cheaper for members: then nothing says 会员价.
  anyMemberPrice: boolean;
}

function toSkuView(s: Sku): SkuView {
  return {
    id: s.id,
    name: s.name,
    priceText: formatFen(s.priceFen),
    memberPriceText: formatFen(s.memberPriceFen),
    hasMemberPrice: s.memberPriceFen < s.priceFen,
    stock: s.stock,
    soldOut: s.stock <= 0,
  };
}

export function toProductDetailView(p: ProductDetail): ProductDetailView {
  const prices = p.skus.map((s) => s.memberPriceFen);
  return {
    id: p.id,
    title: p.title,
    description: p.description,
    images: p.images,
    skus: p.skus.map(toSkuView),
    lowestMemberPriceText: prices.length ? formatFen(Math.min(...prices)) : '',
    anyMemberPrice: p.skus.some((s) => s.memberPriceFen < s.priceFen),
  };
}

export interface CartLineView {
  skuId: string;
  productId: string;
  title: string;
  skuName: string;
  imageUrl: string;
  quantity: number;
  stock: number;
  unitText: string;
  lineText: string;
  overStock: boolean;
}

export function toCartLineView(item: CartItem): CartLineView {
  return {
    skuId: item.skuId,
    productId: item.productId,
    title: item.title,
    skuName: item.skuName,
    imageUrl: item.imageUrl || '',
    quantity: item.quantity,
    stock: item.stock,
    unitText: formatFen(item.memberPriceFen),
    lineText: formatFen(item.memberPriceFen * item.quantity),
    overStock: item.quantity > item.stock,
  };
}

export interface CartView {
  lines: CartLineView[];
  count: number;
  totalText: string;
  totalLabel: string;
  // A line asks for more than is in stock: checkout waits until the member lowers it.
  blocked: boolean;
}

export function toCartView(cart: Cart): CartView {
  const lines = cart.items.map(toCartLineView);
  const totalFen = cart.items.reduce((sum, item) => sum + item.memberPriceFen * item.quantity, 0);
  return {
    lines,
    count: cart.items.reduce((sum, item) => sum + item.quantity, 0),
    totalText: formatFen(totalFen),
    // "合计（会员价）" only when some line is cheaper for members; shipping and coupons come at checkout.
    totalLabel: cart.items.some((item) => item.memberPriceFen < item.priceFen) ? '合计（会员价）' : '合计',
    blocked: lines.some((line) => line.overStock),
  };
}

export interface MallItemView {
  id: string;
  name: string;
  description: string;
  imageUrl: string;
  kindText: string;
  pointsCost: number;
  stockText: string;
  limitText: string;
  needsAddress: boolean;
  // Why the button is off, or '' when the member can redeem.
  blockedReason: string;
}

const KIND_TEXT: Record<MallItem['kind'], string> = { coupon: '优惠券', shipping_card: '包邮卡', gift: '实物礼品' };

export function toMallItemView(item: MallItem, pointsBalance: number): MallItemView {
  let blockedReason = '';
  if (item.stock <= 0) blockedReason = '已兑完';
  else if (item.perMemberLimit !== null && item.redeemedByMe >= item.perMemberLimit) blockedReason = '已达兑换上限';
  else if (pointsBalance < item.pointsCost) blockedReason = '积分不足';
  return {
    id: item.id,
    name: item.name,
    description: item.description,
    imageUrl: item.imageUrl || '',
    kindText: KIND_TEXT[item.kind],
    pointsCost: item.pointsCost,
    stockText: item.stock > 0 ? `剩余 ${item.stock} 件` : '已兑完',
    limitText: item.perMemberLimit !== null ? `每人限兑 ${item.perMemberLimit} 次，已兑 ${item.redeemedByMe} 次` : '',
    needsAddress: item.needsAddress,
    blockedReason,
  };
}
