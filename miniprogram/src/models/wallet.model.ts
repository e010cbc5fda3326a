import type { Wallet, WalletRedemption } from './api-types';
import { formatFen } from './money';
import { shanghaiDate, shanghaiDateTime } from '../utils/shanghai-time';

export interface WalletCouponView {
  id: string;
  name: string;
  valueText: string;
  ruleText: string;
  expiresText: string;
}

export interface RedemptionView {
  id: string;
  name: string;
  kindText: string;
  pointsText: string;
  statusText: string;
  shippingText: string;
  timeText: string;
}

export interface WalletView {
  coupons: WalletCouponView[];
  // "包邮卡 有效期至 2026-12-31", or empty without a running card.
  shippingCardText: string;
  empty: boolean;
}

const KIND_TEXT: Record<string, string> = { coupon: '优惠券', shipping_card: '包邮卡', gift: '实物礼品' };
const STATUS_TEXT: Record<string, string> = { fulfilled: '已到账', pending_shipment: '待发货', shipped: '已发货' };

export function toWalletView(wallet: Wallet): WalletView {
  const coupons = wallet.coupons.map((c) => ({
    id: c.id,
    name: c.name,
    valueText: formatFen(c.valueFen),
    ruleText: c.minSpendFen > 0 ? `满${formatFen(c.minSpendFen)}可用` : '无门槛',
    expiresText: `${shanghaiDate(c.expiresAt)} 到期`,
  }));
  const shippingCardText = wallet.shippingCardUntil ? `有效期至 ${shanghaiDate(wallet.shippingCardUntil)}，下单自动包邮` : '';
  return { coupons, shippingCardText, empty: coupons.length === 0 && !shippingCardText };
}

export function toRedemptionView(r: WalletRedemption): RedemptionView {
  return {
    id: r.id,
    name: r.name,
    kindText: KIND_TEXT[r.kind] ?? '兑换',
    pointsText: `-${r.pointsSpent} 积分`,
    statusText: STATUS_TEXT[r.status] ?? r.status,
    shippingText: r.shipping ? `${r.shipping.company} ${r.shipping.trackingNo}` : '',
    timeText: shanghaiDateTime(r.createdAt),
  };
}
