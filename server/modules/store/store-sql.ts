import type { Ctx, Db } from '../../infra/db';

/**
 * Rows of any statement: the driver hands UPDATE/DELETE … RETURNING back as [rows, count], SELECT/INSERT as rows.
 */
export async function rows<T = Record<string, any>>(db: Db, ctx: Ctx, text: string, params: unknown[] = []): Promise<T[]> {
  const r = await db.em(ctx).query(text, params);
  if (Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number') return r[0] as T[];
  return r as T[];
}

/** Member price: list price less the tier's percent, rounded half up to the fen. */
export function memberPrice(priceFen: number, discountPercent: number): number {
  const pct = Math.min(Math.max(Math.trunc(discountPercent), 0), 100);
  return Math.max(1, Math.floor((priceFen * (100 - pct) + 50) / 100));
}
