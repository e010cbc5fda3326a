import { z } from 'zod';

/** After-sales as the member's and the merchant's routes both speak of them. */
export const afterSaleLines = z.array(z.object({ skuId: z.uuid(), quantity: z.number().int().min(1).max(99) })).min(1).max(50);
export const afterSaleView = z.object({
  id: z.string(),
  orderId: z.string(),
  lines: z.array(z.object({ skuId: z.string(), quantity: z.number() })).nullable(),
  amountFen: z.number(),
  reason: z.string(),
  requestedBy: z.enum(['member', 'merchant']),
  status: z.enum(['requested', 'rejected', 'refunding', 'refunded', 'failed']),
  merchantNote: z.string().nullable(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  settledAt: z.string().nullable(),
});
