import { buildTestApp, type TestApp } from '../helpers/app';

/**
 * Per-address limits count the address TRUST_PROXY lets through: on a real port, so the TCP peer (127.0.0.1) is
 * real and X-Forwarded-For is only a header the client wrote.
 */
describe('TRUST_PROXY and the address per-address limits count', () => {
  const started: TestApp[] = [];
  afterAll(async () => {
    for (const t of started) await t.close();
  });

  /** The app on 127.0.0.1, port 0; returns its base URL. */
  async function listening(trustProxy?: string): Promise<string> {
    const t = await buildTestApp(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy });
    started.push(t);
    return t.app.listen({ host: '127.0.0.1', port: 0 });
  }

  let attempt = 0;
  /** A wrong login under a fresh name (no account lockout involved); what the login limit has left for its caller. */
  async function remainingAfterLogin(base: string, forwardedFor?: string): Promise<{ limit: number; remaining: number }> {
    const res = await fetch(`${base}/api/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
      body: JSON.stringify({ username: `nobody-${attempt++}`, password: 'wrong-password-1' }),
    });
    expect(res.status).toBe(401);
    return { limit: Number(res.headers.get('x-ratelimit-limit')), remaining: Number(res.headers.get('x-ratelimit-remaining')) };
  }

  it('off (the default): a made-up X-Forwarded-For is ignored, every attempt counts against 127.0.0.1', async () => {
    const base = await listening();
    const first = await remainingAfterLogin(base, '203.0.113.1');
    expect(first.limit).toBeGreaterThan(3);
    expect(first.remaining).toBe(first.limit - 1);
    expect(await remainingAfterLogin(base, '203.0.113.2')).toEqual({ limit: first.limit, remaining: first.limit - 2 });
    expect(await remainingAfterLogin(base, '198.51.100.7, 203.0.113.3')).toEqual({ limit: first.limit, remaining: first.limit - 3 });
    expect(await remainingAfterLogin(base)).toEqual({ limit: first.limit, remaining: first.limit - 4 });
  });

  it('the proxy trusted by address: each client it names has its own count, and one client is still counted', async () => {
    const base = await listening('127.0.0.1');
    const first = await remainingAfterLogin(base, '203.0.113.1');
    expect(first.remaining).toBe(first.limit - 1);
    expect(await remainingAfterLogin(base, '203.0.113.2')).toEqual({ limit: first.limit, remaining: first.limit - 1 });
    expect(await remainingAfterLogin(base, '203.0.113.1')).toEqual({ limit: first.limit, remaining: first.limit - 2 });
    // Only the hop the proxy added is believed: what the client wrote before it is not.
    expect(await remainingAfterLogin(base, '198.51.100.99, 203.0.113.1')).toEqual({ limit: first.limit, remaining: first.limit - 3 });
  });

  it('a peer outside the trusted proxies names no one', async () => {
    const base = await listening('10.0.0.0/8, 192.168.1.1');
    const first = await remainingAfterLogin(base, '203.0.113.1');
    expect(await remainingAfterLogin(base, '203.0.113.2')).toEqual({ limit: first.limit, remaining: first.limit - 2 });
  });

  it('a hop count trusts that many proxies in front', async () => {
    const base = await listening('1');
    const first = await remainingAfterLogin(base, '203.0.113.1');
    expect(first.remaining).toBe(first.limit - 1);
    expect(await remainingAfterLogin(base, '203.0.113.2')).toEqual({ limit: first.limit, remaining: first.limit - 1 });
    expect(await remainingAfterLogin(base, '198.51.100.99, 203.0.113.2')).toEqual({ limit: first.limit, remaining: first.limit - 2 });
  });
});
