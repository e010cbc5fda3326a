import type { PrivacyState } from '../models/api-types';

// Storage keys of the session; the token is opaque and revocable on the server.
const TOKEN_KEY = 'snowball.session';
const PRIVACY_KEY = 'snowball.privacy';

interface StoredSession {
  token: string;
  expiresAt: string;
}

export function getToken(): string | null {
  const stored = wx.getStorageSync(TOKEN_KEY) as StoredSession | '';
  if (!stored || !stored.token) return null;
  // A locally expired token is dropped so the next request logs in first instead of taking a 401.
  if (Date.parse(stored.expiresAt) <= Date.now()) return null;
  return stored.token;
}

export function saveSession(token: string, expiresAt: string): void {
  wx.setStorageSync(TOKEN_KEY, { token, expiresAt });
}

export function clearSession(): void {
  wx.removeStorageSync(TOKEN_KEY);
  wx.removeStorageSync(PRIVACY_KEY);
}

export function getPrivacyState(): PrivacyState | null {
  const stored = wx.getStorageSync(PRIVACY_KEY) as PrivacyState | '';
  return stored || null;
}

export function savePrivacyState(state: PrivacyState): void {
  wx.setStorageSync(PRIVACY_KEY, state);
}
