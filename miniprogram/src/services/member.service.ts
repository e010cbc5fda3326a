import type { MemberCard } from '../models/api-types';
import { request } from './request';

export function fetchMemberCard(): Promise<MemberCard> {
  return request<MemberCard>('/api/mp/me');
}

// The member's own data as the server exports it (PIPL right of access).
export function exportMyData(): Promise<unknown> {
  return request<unknown>('/api/mp/me/export');
}

export function eraseMyData(): Promise<void> {
  return request<void>('/api/mp/me/erase', { method: 'POST', data: { confirm: true } });
}
