import { defaultExpiry, nextShanghaiRun, parseExpiryRule } from '../../server/modules/points/points-expiry';

describe('points expiry rule', () => {
  it('expires at the end of the year after earning, on the Asia/Shanghai calendar', () => {
    expect(defaultExpiry(new Date('2026-03-01T00:00:00Z')).toISOString()).toBe('2027-12-31T16:00:00.000Z');
    // 31 Dec 2026 20:00 UTC is already 1 Jan 2027 in Shanghai: earned in 2027, expires end of 2028.
    expect(defaultExpiry(new Date('2026-12-31T20:00:00Z')).toISOString()).toBe('2028-12-31T16:00:00.000Z');
    expect(parseExpiryRule('30d')(new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(() => parseExpiryRule('soon')).toThrow(/POINTS_EXPIRY/);
    expect(nextShanghaiRun(new Date('2026-11-23T10:00:00Z')).toISOString()).toBe('2026-11-23T16:05:00.000Z');
  });
});
