import { login, request } from './request';
import { getPrivacyState, savePrivacyState } from './session';
import type { PrivacyState } from '../models/api-types';

// The server's privacy-notice state; logs in when none is known yet.
export async function loadPrivacyState(): Promise<PrivacyState> {
  return getPrivacyState() ?? (await login()).privacy;
}

export async function acceptPrivacy(version: string): Promise<void> {
  await request<void>('/api/mp/privacy/accept', { method: 'POST', data: { version } });
  savePrivacyState({ version, accepted: true });
}

export function hasAcceptedPrivacy(): boolean {
  return getPrivacyState()?.accepted === true;
}
