import type { Address, AddressInput } from './api-types';

export function addressLine(a: Pick<Address, 'province' | 'city' | 'district' | 'detail'>): string {
  // Municipalities repeat the province as the city (北京市 北京市); print it once.
  const city = a.city === a.province ? '' : a.city;
  return [a.province, city, a.district, a.detail].filter(Boolean).join(' ');
}

export interface AddressView {
  id: string;
  name: string;
  phone: string;
  line: string;
  isDefault: boolean;
}

export function toAddressView(a: Address): AddressView {
  return { id: a.id, name: a.name, phone: a.phone, line: addressLine(a), isDefault: a.isDefault };
}

export function defaultAddress(list: Address[]): Address | null {
  return list.find((a) => a.isDefault) ?? list[0] ?? null;
}

// Returns the first problem as a Chinese message, or '' when the form is complete.
export function validateAddress(input: AddressInput, phoneRequired: boolean): string {
  if (!input.name.trim()) return '请填写收货人';
  if (phoneRequired || input.phone) {
    if (!/^1\d{10}$/.test(input.phone)) return '请填写 11 位手机号';
  }
  if (!input.province || !input.city || !input.district) return '请选择所在地区';
  if (input.detail.trim().length < 4) return '请填写详细地址';
  return '';
}
