import type { MallItem, PointsHistoryPage, Redemption } from '../models/api-types';
import { request } from './request';

export function fetchPointsHistory(cursor: string | null): Promise<PointsHistoryPage> {
  const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
  return request<PointsHistoryPage>(`/api/mp/points/history${query}`);
}

export function fetchMallItems(): Promise<MallItem[]> {
  return request<MallItem[]>('/api/mp/mall/items');
}

export function redeemMallItem(itemId: string, addressId?: string): Promise<Redemption> {
  const data: Record<string, unknown> = { itemId };
  if (addressId) data.addressId = addressId;
  return request<Redemption>('/api/mp/mall/redemptions', { method: 'POST', data });
}
