import { z } from 'zod';

/** What the sandbox page shows a newcomer: the demo batch's code and orders they can bind by chat. */
export const sandboxDemoOut = z.object({
  brand: z.string(),
  batch: z.object({ id: z.string(), name: z.string(), scene: z.string(), ticket: z.string() }),
  /** Completed orders from the demo export, unbound ones first; `phoneLast4` is what the buyer types after the order number. */
  orders: z.array(z.object({ orderNo: z.string(), phoneLast4: z.string(), buyerNick: z.string(), totalFen: z.number().int(), bound: z.boolean() })),
  rewardFen: z.number().int(),
  ownerUsername: z.string().nullable(),
});

export type SandboxDemo = z.infer<typeof sandboxDemoOut>;

/** Asked at each page refresh, so an order someone just bound shows as bound. */
export type SandboxDemoSource = () => Promise<SandboxDemo | null>;

/** What the app knows of a sandbox person as a member (their card on the page): null when they are not one yet. */
export const sandboxMemberOut = z.object({
  tier: z.string(),
  points: z.number().int(),
  /** Taobao orders bound to the member (through their buyer). */
  boundOrders: z.number().int(),
  buyer: z.string().nullable(),
});

export type SandboxMember = z.infer<typeof sandboxMemberOut>;

/** Looks a person up by their identities (unionid, then the openids); asked at each refresh of their card. */
export type SandboxMemberSource = (person: { unionid: string; oaOpenid: string; mpOpenid: string }) => Promise<SandboxMember | null>;
