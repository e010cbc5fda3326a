import { ConfigError, loadConfig } from '../../server/config';

describe('config', () => {
  it('gives the documented defaults and freezes the result', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.dataDir).toBe('./data');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.publicUrl).toBe('http://127.0.0.1:3000');
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('reads TRUST_PROXY: off by default, a hop count, or the proxies to believe', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.1, 172.16.0.0/12,loopback, fd00::/8' }).trustProxy).toEqual(['10.0.0.1', '172.16.0.0/12', 'loopback', 'fd00::/8']);
  });

  it('reads where metrics are served: open on the app port outside production, never without a setting in production', () => {
    expect(loadConfig({}).metrics).toEqual({ token: undefined, listen: undefined, onAppPort: true });
    const production = { NODE_ENV: 'production', WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 's', WECHAT_TOKEN: 'token1', MEMBER_DATA_KEY: 'k'.repeat(16) };
    expect(loadConfig(production).metrics).toEqual({ token: undefined, listen: undefined, onAppPort: false });
    expect(loadConfig({ ...production, METRICS_TOKEN: 't'.repeat(16) }).metrics).toEqual({ token: 't'.repeat(16), listen: undefined, onAppPort: true });
    expect(loadConfig({ ...production, METRICS_PORT: '9464' }).metrics).toEqual({ token: undefined, listen: { host: '127.0.0.1', port: 9464 }, onAppPort: false });
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/^Invalid configuration: METRICS_TOKEN must be at least 16 characters \(got "\*\*\*"\)$/);
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig({ DATABASE_URL: '', REDIS_URL: '', PUBLIC_URL: '' });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
  });

  it.each([
    [{ PORT: 'eighty' }, /^Invalid configuration: PORT /],
    [{ PORT: '70000' }, /^Invalid configuration: PORT /],
    [{ DATABASE_URL: 'mysql://x' }, /^Invalid configuration: DATABASE_URL must be a postgres:\/\/ URL/],
    [{ REDIS_URL: 'localhost:6379' }, /^Invalid configuration: REDIS_URL /],
    [{ LOG_LEVEL: 'loud' }, /^Invalid configuration: LOG_LEVEL /],
    [{ PUBLIC_URL: 'not a url' }, /^Invalid configuration: PUBLIC_URL /],
    [{ ADMIN_USERNAME: 'boss' }, /ADMIN_PASSWORD is required/],
    [{ ADMIN_USERNAME: 'boss', ADMIN_PASSWORD: 'short' }, /^Invalid configuration: ADMIN_PASSWORD must be at least 10/],
    [{ TRUST_PROXY: 'yes please' }, /^Invalid configuration: TRUST_PROXY must be false, true, a hop count or comma-separated proxy addresses\/CIDRs \(not "yes please"\)/],
    [{ TRUST_PROXY: '10.0.0.1, 10.0.0.0/33' }, /TRUST_PROXY .*\(not "10\.0\.0\.0\/33"\)/],
  ])('refuses %j with a one-line message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('never echoes a secret value or a database password', () => {
    try {
      loadConfig({ DATABASE_URL: 'postgres://u:hunter2@ host/db' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
    expect.assertions(1);
  });
});
