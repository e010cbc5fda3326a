// The one money formatter: fen (integer) in, yuan text out; nothing else divides by 100.
export function formatFen(fen: number, options: { symbol?: boolean } = {}): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`amount in fen must be an integer, got ${fen}`);
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const cents = abs % 100;
  // Thousands grouped by hand: toLocaleString differs between the iOS and Android runtimes.
  const yuan = String((abs - cents) / 100).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${options.symbol === false ? '' : '¥'}${yuan}.${cents < 10 ? '0' : ''}${cents}`;
}
