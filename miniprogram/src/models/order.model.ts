import type { Order, OrderStatus } from './api-types';
import { formatFen } from './money';
import { shanghaiDateTime } from '../utils/shanghai-time';
import { addressLine } from './address.model';

export const ORDER_STATUS_TEXT: Record<OrderStatus, string> = {
  pending_payment: '待付款',
  paid: '待发货',
  shipped: '已发货',
  completed: '已完成',
  cancelled: '已取消',
  refunded: '已退款',
};

export interface OrderView {
  id: string;
  orderNo: string;
  status: OrderStatus;
  statusText: string;
  items: { key: string; title: string; skuName: string; quantity: number; unitText: string }[];
  itemCount: number;
  goodsText: string;
  discountText: string;
  pointsText: string;
  shippingText: string;
  payableText: string;
  addressText: string;
  receiverText: string;
  createdText: string;
  paidText: string;
  shippingInfo: string;
  // The carrier's tracking number alone, for copying into its app.
  trackingNo: string;
  canPay: boolean;
  canCancel: boolean;
}

export function toOrderView(order: Order): OrderView {
  return {
    id: order.id,
    orderNo: order.orderNo,
    status: order.status,
    statusText: ORDER_STATUS_TEXT[order.status] ?? order.status,
    items: order.items.map((item, i) => ({
      key: `${item.skuId}-${i}`,
      title: item.title,
      skuName: item.skuName,
      quantity: item.quantity,
      unitText: formatFen(item.unitPriceFen),
    })),
    itemCount: order.items.reduce((sum, item) => sum + item.quantity, 0),
    goodsText: formatFen(order.goodsFen),
    discountText: `-${formatFen(order.discountFen)}`,
    pointsText: order.pointsUsed > 0 ? `${order.pointsUsed} 积分抵 -${formatFen(order.pointsDiscountFen)}` : '未使用',
    shippingText: order.shippingFen > 0 ? formatFen(order.shippingFen) : '包邮',
    payableText: formatFen(order.payableFen),
    addressText: order.address ? addressLine(order.address) : '',
    receiverText: order.address ? `${order.address.name} ${order.address.phone}` : '',
    createdText: shanghaiDateTime(order.createdAt),
    paidText: order.paidAt ? shanghaiDateTime(order.paidAt) : '',
    shippingInfo: order.shipping ? `${order.shipping.company} ${order.shipping.trackingNo}` : '',
    trackingNo: order.shipping?.trackingNo ?? '',
    canPay: order.status === 'pending_payment',
    canCancel: order.status === 'pending_payment',
  };
}
