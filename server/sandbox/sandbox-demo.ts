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
