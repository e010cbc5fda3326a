import { z } from 'zod';

/**
 * Shapes the members module answers and the mini-program reads (its types are generated from the OpenAPI document
 * these schemas end up in: npm run gen:api-types).
 */

/** The member card as GET /api/mp/me and the login answer give it (MemberQueryService.mpCard builds it). */
export const mpMemberCardSchema = z.object({
  id: z.string().uuid(),
  nickname: z.string().nullable(),
  /** The avatar the member chose: a path on this server (served without a session), or null. */
  avatarUrl: z.string().nullable(),
  tier: z.object({
    code: z.string(),
    name: z.string(),
    perks: z.object({ freeShipping: z.boolean(), discountPercent: z.number(), pointsMultiplier: z.number(), birthdayGift: z.boolean() }),
  }),
  pointsBalance: z.number(),
  expiringPoints: z.object({ points: z.number(), expiresAt: z.string() }).nullable(),
  taobaoBuyer: z.object({ nickMasked: z.string(), channelName: z.string(), ordersCount: z.number() }).nullable(),
  /** The short member code (10 digits, the last a Luhn check digit) a cashier scans or types. */
  memberCode: z.string().regex(/^\d{10}$/),
});

export type MpMemberCard = z.infer<typeof mpMemberCardSchema>;

/** PUT /api/mp/me/profile: the nickname from WeChat's nickname input (checked again by MemberProfileService). */
export const mpProfileInputSchema = z.object({ nickname: z.string().max(200) });

