import type { ReviewClaim, TransferPackage } from '../models/review.model';
import { request, upload } from './request';

export function listReviewClaims(): Promise<ReviewClaim[]> {
  return request<ReviewClaim[]>('/api/mp/review-claims');
}

// multipart: orderNo and the review's screenshot.
export function submitReviewClaim(orderNo: string, screenshotPath: string): Promise<ReviewClaim> {
  return upload<ReviewClaim>('/api/mp/review-claims', screenshotPath, 'screenshot', { orderNo });
}

// What wx.requestMerchantTransfer needs to confirm a cash reward.
export function transferPackage(claimId: string): Promise<TransferPackage> {
  return request<TransferPackage>(`/api/mp/review-claims/${claimId}/transfer`);
}
