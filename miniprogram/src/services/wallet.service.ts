import type { Wallet, WalletRedemption } from '../models/api-types';
import { request } from './request';

// The member's unused coupons and 包邮卡 (GET /api/mp/wallet).
export function fetchWallet(): Promise<Wallet> {
  return request<Wallet>('/api/mp/wallet');
}

// What the member redeemed in the points mall, newest first.
export function fetchRedemptions(): Promise<WalletRedemption[]> {
  return request<WalletRedemption[]>('/api/mp/mall/redemptions');
}
