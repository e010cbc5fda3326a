import type { CheckoutQuote, Order, OrderStatus, PaymentParams, PlaceOrderInput, PlacedOrder } from '../models/api-types';
import { request } from './request';

export function placeOrder(input: PlaceOrderInput): Promise<PlacedOrder> {
  const data: Record<string, unknown> = { items: input.items, addressId: input.addressId, pointsToUse: input.pointsToUse };
  if (input.couponId) data.couponId = input.couponId;
  return request<PlacedOrder>('/api/mp/orders', { method: 'POST', data });
}

export type QuoteInput = Omit<PlaceOrderInput, 'addressId'> & { addressId?: string };

// What the order of this body would charge, priced by the server exactly as placing it prices it.
export function quoteOrder(input: QuoteInput): Promise<CheckoutQuote> {
  const data: Record<string, unknown> = { items: input.items, pointsToUse: input.pointsToUse };
  if (input.addressId) data.addressId = input.addressId;
  if (input.couponId) data.couponId = input.couponId;
  return request<CheckoutQuote>('/api/mp/checkout/quote', { method: 'POST', data });
}

export function fetchOrders(status?: OrderStatus): Promise<Order[]> {
  return request<Order[]>(`/api/mp/orders${status ? `?status=${status}` : ''}`);
}

export function fetchOrder(id: string): Promise<Order> {
  return request<Order>(`/api/mp/orders/${encodeURIComponent(id)}`);
}

export async function repayOrder(id: string): Promise<PaymentParams> {
  const { payment } = await request<{ payment: PaymentParams }>(`/api/mp/orders/${encodeURIComponent(id)}/pay`, { method: 'POST', data: {} });
  return payment;
}

export function cancelOrder(id: string): Promise<Order> {
  return request<Order>(`/api/mp/orders/${encodeURIComponent(id)}/cancel`, { method: 'POST', data: {} });
}

export type PaymentOutcome = 'paid' | 'cancelled' | 'failed';

// Opens the WeChat Pay sheet; the order turns paid through the server's payment notification, not this callback.
export function requestPayment(payment: PaymentParams): Promise<PaymentOutcome> {
  return new Promise((resolve) => {
    wx.requestPayment({
      timeStamp: payment.timeStamp,
      nonceStr: payment.nonceStr,
      package: payment.package,
      signType: payment.signType,
      paySign: payment.paySign,
      success: () => resolve('paid'),
      fail: (err) => resolve(/cancel/.test(err.errMsg) ? 'cancelled' : 'failed'),
    });
  });
}
