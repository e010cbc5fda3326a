import type { AfterSale } from '../models/after-sale.model';
import { request } from './request';

export function fetchAfterSales(orderId: string): Promise<AfterSale[]> {
  return request<AfterSale[]>(`/api/mp/orders/${encodeURIComponent(orderId)}/after-sales`);
}

// 申请退款: the whole order without lines; the merchant accepts or rejects.
export function requestAfterSale(orderId: string, reason: string): Promise<AfterSale> {
  return request<AfterSale>(`/api/mp/orders/${encodeURIComponent(orderId)}/after-sales`, { method: 'POST', data: { reason } });
}
