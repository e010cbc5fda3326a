import type { Ctx, Db } from '../../infra/db';

/** Rows of any statement (see Db.rows). */
export function rows<T = Record<string, any>>(db: Db, ctx: Ctx, text: string, params: unknown[] = []): Promise<T[]> {
  return db.rows<T>(ctx, text, params);
}

/** Member price: list price less the tier's percent, rounded half up to the fen. */
export function memberPrice(priceFen: number, discountPercent: number): number {
  const pct = Math.min(Math.max(Math.trunc(discountPercent), 0), 100);
  return Math.max(1, Math.floor((priceFen * (100 - pct) + 50) / 100));
}
