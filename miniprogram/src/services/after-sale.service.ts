import type { AfterSale } from '../models/after-sale.model';
import type { Order } from '../models/api-types';
import { request } from './request';

export function fetchAfterSales(orderId: string): Promise<AfterSale[]> {
  return request<AfterSale[]>(`/api/mp/orders/${encodeURIComponent(orderId)}/after-sales`);
}

// 申请退款: the whole order without lines; the merchant accepts or rejects.
export function requestAfterSale(orderId: string, reason: string): Promise<AfterSale> {
  return request<AfterSale>(`/api/mp/orders/${encodeURIComponent(orderId)}/after-sales`, { method: 'POST', data: { reason } });
}

// 确认收货: a shipped order becomes completed (kept with after-sales: what the member does once the parcel is there).
export function confirmReceipt(orderId: string): Promise<Order> {
  return request<Order>(`/api/mp/orders/${encodeURIComponent(orderId)}/confirm-receipt`, { method: 'POST', data: {} });
}
