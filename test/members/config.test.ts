import { ConfigError, loadConfig } from '../../server/config';

/** Production also needs the real WeChat accounts (the sandbox is refused there). */
const prodWechat = { WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'oa-secret', WECHAT_TOKEN: 'callbacktoken1' };

describe('member ledger configuration', () => {
  it('requires MEMBER_DATA_KEY in production and validates the points settings', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...prodWechat })).toThrow(/MEMBER_DATA_KEY is required in production/);
    expect(() => loadConfig({ NODE_ENV: 'production', ...prodWechat, MEMBER_DATA_KEY: 'short' })).toThrow(ConfigError);
    expect(loadConfig({ NODE_ENV: 'production', ...prodWechat, MEMBER_DATA_KEY: 'a-long-enough-member-key' }).memberDataKey).toBe('a-long-enough-member-key');
    expect(() => loadConfig({ POINTS_EXPIRY: 'tomorrow' })).toThrow(/POINTS_EXPIRY/);
    expect(loadConfig({ POINTS_EXPIRY: '365d', POINTS_PER_YUAN: '2' })).toMatchObject({ pointsExpiry: '365d', pointsPerYuan: 2 });
  });
});
