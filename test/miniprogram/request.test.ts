import { createFakeWx, installFakeWx, loginReply, type FakeWx, type SentRequest } from './helpers/fake-wx';
import { ApiError, request } from '../../miniprogram/src/services/request';
import { config } from '../../miniprogram/src/config';

let fake: FakeWx;

function pathOf(req: SentRequest): string {
  return req.url.slice(config.apiBaseUrl.length);
}

beforeEach(() => {
  // The request layer's own protocol (sessions, retries, status handling) against made-up routes and bodies.
  fake = createFakeWx(undefined, { schemaCheck: false });
  installFakeWx(fake);
});

describe('request wrapper', () => {
  it('logs in first when no session is stored, then sends the bearer token', async () => {
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok-1') : { status: 200, body: { ok: true } }));
    const body = await request<{ ok: boolean }>('/api/mp/me');
    expect(body).toEqual({ ok: true });
    expect(fake.requests.map(pathOf)).toEqual(['/api/mp/login', '/api/mp/me']);
    expect(fake.requests[0].data).toEqual({ code: 'code-1' });
    expect(fake.requests[0].header.Authorization).toBeUndefined();
    expect(fake.requests[1].header.Authorization).toBe('Bearer tok-1');
    expect(fake.requests[1].url).toBe(`${config.apiBaseUrl}/api/mp/me`);
  });

  it('re-logs in once on session_expired and retries with the same idempotency key', async () => {
    let tokenNo = 0;
    fake.setHandler((req) => {
      if (pathOf(req) === '/api/mp/login') return loginReply(`tok-${++tokenNo}`);
      if (req.header.Authorization === 'Bearer tok-1') return { status: 401, body: { code: 'session_expired', message: 'expired' } };
      return { status: 200, body: { date: '2026-11-23' } };
    });
    const result = await request('/api/mp/check-ins', { method: 'POST', data: {} });
    expect(result).toEqual({ date: '2026-11-23' });
    const writes = fake.requests.filter((r) => pathOf(r) === '/api/mp/check-ins');
    expect(writes).toHaveLength(2);
    expect(writes[0].header.Authorization).toBe('Bearer tok-1');
    expect(writes[1].header.Authorization).toBe('Bearer tok-2');
    expect(writes[0].header['Idempotency-Key']).toMatch(/\S{8,}/);
    expect(writes[1].header['Idempotency-Key']).toBe(writes[0].header['Idempotency-Key']);
    expect(fake.loginCodes).toHaveLength(2);
  });

  it('gives up after one re-login when the new session is refused too', async () => {
    fake.setHandler((req) =>
      pathOf(req) === '/api/mp/login' ? loginReply('tok') : { status: 401, body: { code: 'invalid_session', message: 'no' } },
    );
    await expect(request('/api/mp/me')).rejects.toMatchObject({ code: 'invalid_session', status: 401, message: '登录已失效，请重新进入小程序' });
    expect(fake.requests.filter((r) => pathOf(r) === '/api/mp/me')).toHaveLength(2);
    expect(fake.loginCodes).toHaveLength(2);
  });

  it('does not re-login on a 401 that is not a session code', async () => {
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : { status: 401, body: { code: 'unauthorized' } }));
    await expect(request('/api/mp/me')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(fake.loginCodes).toHaveLength(1);
  });

  it('logs in once when several requests find the session expired at the same time', async () => {
    fake.storage.set('snowball.session', { token: 'old', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    fake.setHandler((req) => {
      if (pathOf(req) === '/api/mp/login') return loginReply('new');
      // The cart's refusal arrives after the others have already logged in again.
      const delay = pathOf(req) === '/api/mp/cart' ? 30 : 0;
      const reply = req.header.Authorization === 'Bearer old' ? { status: 401, body: { code: 'session_expired' } } : { status: 200, body: { ok: true } };
      return new Promise((resolve) => setTimeout(() => resolve(reply), delay));
    });
    const results = await Promise.all([request('/api/mp/me'), request('/api/mp/cart'), request('/api/mp/products')]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(fake.loginCodes).toHaveLength(1);
    expect(fake.requests.filter((r) => r.header.Authorization === 'Bearer new')).toHaveLength(3);
  });

  it('shares one login between requests that start together', async () => {
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : { status: 200, body: {} }));
    await Promise.all([request('/api/mp/me'), request('/api/mp/products'), request('/api/mp/cart')]);
    expect(fake.loginCodes).toHaveLength(1);
    expect(fake.requests.filter((r) => pathOf(r) === '/api/mp/login')).toHaveLength(1);
  });

  it.each([
    [409, 'already_checked_in', '今天已经签到过了，明天再来吧'],
    [400, 'phone_mismatch', '手机号后四位与订单不一致'],
    [409, 'insufficient_points', '积分不足'],
    [429, 'rate_limited', '操作太频繁，请稍后再试'],
    [409, 'something_new', '操作冲突，请刷新后重试'],
    [500, 'internal', '服务器开小差了，请稍后再试'],
  ])('maps HTTP %i %s to a Chinese message', async (status, code, message) => {
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : { status, body: { code, message: 'english text' } }));
    const err = await request('/api/mp/check-ins', { method: 'POST', data: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code, status, message });
  });

  it('reports a network failure as network_error', async () => {
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : 'network_error'));
    await expect(request('/api/mp/me')).rejects.toMatchObject({ code: 'network_error', message: '网络连接失败，请检查网络后重试' });
  });

  it('sends a new idempotency key for each separate write', async () => {
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : { status: 200, body: {} }));
    await request('/api/mp/cart/items', { method: 'PUT', data: { skuId: '1', quantity: 1 } });
    await request('/api/mp/cart/items', { method: 'PUT', data: { skuId: '1', quantity: 1 } });
    const keys = fake.requests.filter((r) => r.method === 'PUT').map((r) => r.header['Idempotency-Key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).not.toBe(keys[1]);
    expect(fake.requests.find((r) => r.method === 'GET')).toBeUndefined();
  });

  it('keeps a write’s key until it is answered: a retry after a timeout, a network failure or a 5xx sends the same key', async () => {
    const replies: Array<'timeout' | 'network_error' | { status: number; body?: unknown }> = [
      'timeout',
      'network_error',
      { status: 503, body: { code: 'unavailable' } },
      { status: 201, body: { id: 'r1' } },
      { status: 201, body: { id: 'r2' } },
    ];
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : replies.shift()!));
    const redeem = () => request('/api/mp/mall/redemptions', { method: 'POST', data: { itemId: 'gift-1' } });
    await expect(redeem()).rejects.toMatchObject({ code: 'timeout' });
    await expect(redeem()).rejects.toMatchObject({ code: 'network_error' });
    await expect(redeem()).rejects.toMatchObject({ status: 503 });
    await expect(redeem()).resolves.toEqual({ id: 'r1' });
    // Answered: the same write again is a new one.
    await expect(redeem()).resolves.toEqual({ id: 'r2' });
    const keys = fake.requests.filter((r) => r.method === 'POST' && pathOf(r) !== '/api/mp/login').map((r) => r.header['Idempotency-Key']);
    expect(keys).toHaveLength(5);
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(keys[4]).not.toBe(keys[0]);
  });

  it('lets the key go on a refusal (4xx), and a different write never shares a kept key', async () => {
    const replies: Array<'timeout' | { status: number; body?: unknown }> = ['timeout', { status: 409, body: { code: 'insufficient_points' } }, 'timeout', { status: 200 }];
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : replies.shift()!));
    await expect(request('/api/mp/mall/redemptions', { method: 'POST', data: { itemId: 'a' } })).rejects.toMatchObject({ code: 'timeout' });
    await expect(request('/api/mp/mall/redemptions', { method: 'POST', data: { itemId: 'b' } })).rejects.toMatchObject({ code: 'insufficient_points' });
    await expect(request('/api/mp/mall/redemptions', { method: 'POST', data: { itemId: 'b' } })).rejects.toMatchObject({ code: 'timeout' });
    await request('/api/mp/mall/redemptions', { method: 'POST', data: { itemId: 'a' } });
    const [a1, b1, b2, a2] = fake.requests.filter((r) => r.method === 'POST' && pathOf(r) !== '/api/mp/login').map((r) => r.header['Idempotency-Key']);
    expect(b1).not.toBe(a1);
    expect(b2).not.toBe(b1);
    expect(a2).toBe(a1);
  });

  it('sends the key a caller keeps for its logical operation', async () => {
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : { status: 200, body: {} }));
    await request('/api/mp/orders/o-1/pay', { method: 'POST', data: {}, idempotencyKey: 'pay-o-1-attempt-1' });
    await request('/api/mp/orders/o-1/pay', { method: 'POST', data: {}, idempotencyKey: 'pay-o-1-attempt-1' });
    expect(fake.requests.filter((r) => r.method === 'POST' && pathOf(r) !== '/api/mp/login').map((r) => r.header['Idempotency-Key'])).toEqual(['pay-o-1-attempt-1', 'pay-o-1-attempt-1']);
  });

  it('guards against a double tap: the second identical write joins the first', async () => {
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : { status: 200, body: { streak: 3 } }));
    const first = request('/api/mp/check-ins', { method: 'POST', data: {} });
    const second = request('/api/mp/check-ins', { method: 'POST', data: {} });
    const other = request('/api/mp/check-ins/make-up', { method: 'POST', data: { date: '2026-11-20' } });
    expect(second).toBe(first);
    await expect(Promise.all([first, second, other])).resolves.toEqual([{ streak: 3 }, { streak: 3 }, { streak: 3 }]);
    expect(fake.requests.filter((r) => pathOf(r) === '/api/mp/check-ins')).toHaveLength(1);
    // Once settled, a new tap is a new write.
    await request('/api/mp/check-ins', { method: 'POST', data: {} });
    expect(fake.requests.filter((r) => pathOf(r) === '/api/mp/check-ins')).toHaveLength(2);
  });

  it('returns undefined for 204 and keeps the stored session for the next call', async () => {
    fake.setHandler((req) => (pathOf(req) === '/api/mp/login' ? loginReply('tok') : { status: 204 }));
    await expect(request('/api/mp/privacy/accept', { method: 'POST', data: { version: 'v1' } })).resolves.toBeUndefined();
    await request('/api/mp/check-ins/reminder', { method: 'POST', data: { accepted: true } });
    expect(fake.loginCodes).toHaveLength(1);
    expect(fake.storage.get('snowball.privacy')).toEqual({ version: '2026-11', accepted: true });
  });
});
