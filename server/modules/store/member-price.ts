/** Member price: list price less the tier's percent, rounded half up to the fen. */
export function memberPrice(priceFen: number, discountPercent: number): number {
  const pct = Math.min(Math.max(Math.trunc(discountPercent), 0), 100);
  return Math.max(1, Math.floor((priceFen * (100 - pct) + 50) / 100));
}
