import { buildTestApp, type TestApp } from '../helpers/app';

describe('HTTP surface shared by every module', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => t.close());

  it('answers /healthz and /readyz with the database and store checked', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: 'ok', store: 'ok' });
  });

  it('serves Prometheus metrics including request durations by route', async () => {
    await t.app.inject('/healthz');
    const res = await t.app.inject('/metrics');
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(res.body).toContain('process_resident_memory_bytes');
  });

  it('publishes the OpenAPI document at /docs', async () => {
    const res = await t.app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/admin/login', '/readyz']));
    expect((await t.app.inject('/docs')).statusCode).toBeLessThan(400);
  });

  // The request id (x-request-id or a fresh UUID) is checked in the log of the real process: boot.test.ts.
  it('sets security headers', async () => {
    const res = await t.app.inject({ url: '/healthz' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    const other = await t.app.inject('/api/admin/me');
    expect(other.json().code).toBe('missing_token');
  });

  it('answers unknown routes and malformed JSON with a stable {code, message}', async () => {
    const missing = await t.app.inject('/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ code: 'route_not_found', message: 'No route GET /nope' });
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/admin/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": ',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toMatch(/^[a-z_]+$/);
  });

  it('rate-limits by client through the shared store: the sixth call in a minute gets 429', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      codes.push((await t.app.inject({ url: '/api/admin/me', remoteAddress: '10.9.9.9' })).statusCode);
    }
    expect(codes.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(codes[5]).toBe(429);
    const last = await t.app.inject({ url: '/api/admin/me', remoteAddress: '10.9.9.9' });
    expect(last.json().code).toBe('rate_limited');
    // Another client is not affected; health probes are never limited.
    expect((await t.app.inject({ url: '/api/admin/me', remoteAddress: '10.9.9.10' })).statusCode).toBe(401);
    for (let i = 0; i < 8; i++) expect((await t.app.inject({ url: '/healthz', remoteAddress: '10.9.9.9' })).statusCode).toBe(200);
  });
});
