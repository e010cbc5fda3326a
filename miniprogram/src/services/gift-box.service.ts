import type { GiftBox, GiftBoxHelped, GiftBoxStarted } from '../models/api-types';
import { request } from './request';

export function fetchGiftBox(id: string): Promise<GiftBox> {
  return request<GiftBox>(`/api/mp/gift-boxes/${encodeURIComponent(id)}`);
}

/** 帮TA拆: a tap of the logged-in member, never the opening of the page. */
export function helpGiftBox(id: string): Promise<GiftBoxHelped> {
  return request<GiftBoxHelped>(`/api/mp/gift-boxes/${encodeURIComponent(id)}/helps`, { method: 'POST', data: {} });
}

export function startGiftBox(campaignId: string, parentBoxId?: string): Promise<GiftBoxStarted> {
  return request<GiftBoxStarted>('/api/mp/gift-boxes', { method: 'POST', data: parentBoxId ? { campaignId, parentBoxId } : { campaignId } });
}
