import type { Cart, ProductDetail, ProductSummary } from '../models/api-types';
import { request } from './request';

export function fetchProducts(): Promise<ProductSummary[]> {
  return request<ProductSummary[]>('/api/mp/products');
}

export function fetchProduct(id: string): Promise<ProductDetail> {
  return request<ProductDetail>(`/api/mp/products/${encodeURIComponent(id)}`);
}

export function fetchCart(): Promise<Cart> {
  return request<Cart>('/api/mp/cart');
}

// quantity 0 removes the line.
export function setCartQuantity(skuId: string, quantity: number): Promise<Cart> {
  return request<Cart>('/api/mp/cart/items', { method: 'PUT', data: { skuId, quantity } });
}
