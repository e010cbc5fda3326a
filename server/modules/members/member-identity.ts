import { createHmac } from 'node:crypto';

export const IDENTITY_KINDS = ['oa_openid', 'mp_openid', 'unionid', 'taobao_buyer', 'phone'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

/** Mainland mobile numbers in any common spelling (+86, spaces, dashes) → 11 digits, or null. */
export function normalizePhone(raw: string): string | null {
  const digits = raw.replace(/[\s\-()]/g, '').replace(/^\+?86/, '');
  return /^1[3-9]\d{9}$/.test(digits) ? digits : null;
}

/** Keyed hash of a normalised phone: lets orders and members match by phone without storing the number. */
export function phoneHash(key: string, phone: string): string {
  return createHmac('sha256', key).update(phone).digest('hex');
}

export function maskPhoneNumber(phone: string): string {
  return phone.length === 11 ? `${phone.slice(0, 3)}****${phone.slice(7)}` : '****';
}

/** openid / unionid → first 4 and last 4 characters only. */
export function maskOpaqueId(value: string): string {
  return value.length <= 8 ? '****' : `${value.slice(0, 4)}****${value.slice(-4)}`;
}

/** Keeps the province/city part of an address and hides the street and number. */
export function maskAddress(address: string | null): string | null {
  if (!address) return address;
  const chars = Array.from(address);
  return chars.length <= 6 ? '****' : `${chars.slice(0, 6).join('')}****`;
}

/** Masks a name to its first character (张三 → 张*), as Taobao does. */
export function maskName(name: string | null): string | null {
  if (!name) return name;
  const chars = Array.from(name);
  return chars[0] + '*'.repeat(Math.max(chars.length - 1, 1));
}
