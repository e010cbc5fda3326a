import { ConfigError, loadConfig } from '../../server/config';

describe('member ledger configuration', () => {
  it('requires MEMBER_DATA_KEY in production and validates the points settings', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/MEMBER_DATA_KEY is required in production/);
    expect(() => loadConfig({ NODE_ENV: 'production', MEMBER_DATA_KEY: 'short' })).toThrow(ConfigError);
    expect(loadConfig({ NODE_ENV: 'production', MEMBER_DATA_KEY: 'a-long-enough-member-key' }).memberDataKey).toBe('a-long-enough-member-key');
    expect(() => loadConfig({ POINTS_EXPIRY: 'tomorrow' })).toThrow(/POINTS_EXPIRY/);
    expect(loadConfig({ POINTS_EXPIRY: '365d', POINTS_PER_YUAN: '2' })).toMatchObject({ pointsExpiry: '365d', pointsPerYuan: 2 });
  });
});
