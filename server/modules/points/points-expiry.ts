/** When a credit earned at `earnedAt` expires. */
export type ExpiryRule = (earnedAt: Date) => Date;

const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** Default: the end of the calendar year after the one the points were earned in (Asia/Shanghai). */
export const defaultExpiry: ExpiryRule = (earnedAt) => {
  const year = new Date(earnedAt.getTime() + SHANGHAI_OFFSET_MS).getUTCFullYear();
  // 00:00 Shanghai on 1 January two years on is the first instant after "end of next year".
  return new Date(Date.UTC(year + 2, 0, 1) - SHANGHAI_OFFSET_MS);
};

/** Parses POINTS_EXPIRY: `end_of_next_year`, `<days>d` (e.g. 365d) or `never`. */
export function parseExpiryRule(spec: string): ExpiryRule {
  if (spec === 'end_of_next_year') return defaultExpiry;
  if (spec === 'never') return () => new Date('9999-12-31T00:00:00Z');
  const m = /^(\d{1,5})d$/.exec(spec);
  if (m) {
    const days = Number(m[1]);
    return (earnedAt) => new Date(earnedAt.getTime() + days * 86_400_000);
  }
  throw new Error(`POINTS_EXPIRY must be end_of_next_year, never or <days>d, got ${spec}`);
}

/** The next 00:05 Asia/Shanghai after `now`: when the daily expiry and tier jobs run. */
export function nextShanghaiRun(now = new Date()): Date {
  const local = new Date(now.getTime() + SHANGHAI_OFFSET_MS);
  const next = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1, 0, 5) - SHANGHAI_OFFSET_MS;
  return new Date(next);
}

