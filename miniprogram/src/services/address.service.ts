import type { Address, AddressInput } from '../models/api-types';
import { request } from './request';

export function fetchAddresses(): Promise<Address[]> {
  return request<Address[]>('/api/mp/addresses');
}

export function createAddress(input: AddressInput): Promise<Address> {
  return request<Address>('/api/mp/addresses', { method: 'POST', data: { ...input } });
}

// Sends only the fields given: the list holds masked phones, so an untouched phone is left out.
export function updateAddress(id: string, changes: Partial<AddressInput>): Promise<Address> {
  return request<Address>(`/api/mp/addresses/${encodeURIComponent(id)}`, { method: 'PUT', data: { ...changes } });
}

export function deleteAddress(id: string): Promise<void> {
  return request<void>(`/api/mp/addresses/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
