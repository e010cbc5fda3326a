import type { MemberCard } from '../models/api-types';
import { request, upload } from './request';

export function fetchMemberCard(): Promise<MemberCard> {
  return request<MemberCard>('/api/mp/me');
}

export async function saveNickname(nickname: string): Promise<string> {
  return (await request<{ nickname: string }>('/api/mp/me/profile', { method: 'PUT', data: { nickname } })).nickname;
}

// The temporary file WeChat's chooseAvatar button gave; answers where the server serves the new avatar.
export async function uploadAvatar(filePath: string): Promise<string> {
  return (await upload<{ avatarUrl: string }>('/api/mp/me/avatar', filePath, 'avatar', {})).avatarUrl;
}

// The member's own data as the server exports it (PIPL right of access).
export function exportMyData(): Promise<unknown> {
  return request<unknown>('/api/mp/me/export');
}

export function eraseMyData(): Promise<void> {
  return request<void>('/api/mp/me/erase', { method: 'POST', data: { confirm: true } });
}
