import { buildTestApp, type TestApp } from '../helpers/app';
import { wechatTestEnv } from '../helpers/wechat';

/** /metrics is never public in production: behind METRICS_TOKEN, on a listener of its own (METRICS_PORT), or off. */
describe('who may read /metrics', () => {
  const started: TestApp[] = [];
  afterAll(async () => {
    for (const t of started) await t.close();
  });
  const app = async (env: Record<string, string>) => {
    const t = await buildTestApp(env);
    started.push(t);
    return t;
  };
  const TOKEN = 'metrics-token-0123456789';
  const production = { ...wechatTestEnv({ SANDBOX: 'false' }), NODE_ENV: 'production', MEMBER_DATA_KEY: 'production-member-key-1' };

  it('production with neither METRICS_TOKEN nor METRICS_PORT: not served', async () => {
    const t = await app(production);
    await t.app.inject('/healthz');
    const res = await t.app.inject('/metrics');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('route_not_found');
    expect(await t.app.listenMetrics()).toBeUndefined();
  });

  it('METRICS_TOKEN: only a request bearing the token reads them', async () => {
    const t = await app({ ...production, METRICS_TOKEN: TOKEN });
    await t.app.inject('/healthz');
    for (const authorization of [undefined, `Bearer ${TOKEN.slice(0, -1)}x`, `Basic ${TOKEN}`, 'Bearer ']) {
      const res = await t.app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ code: 'metrics_token_required', message: 'Authorization: Bearer <METRICS_TOKEN> is required' });
    }
    const ok = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
  });

  it('METRICS_PORT: served on their own listener only (with METRICS_TOKEN, there too behind it)', async () => {
    const t = await app({ ...production, METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', METRICS_TOKEN: TOKEN });
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = (await t.app.listenMetrics())!;
    expect(address.address).toBe('127.0.0.1');
    expect(address.port).not.toBe(new URL(base).port);
    await fetch(`${base}/healthz`);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    const metricsBase = `http://127.0.0.1:${address.port}`;
    const anonymous = await fetch(`${metricsBase}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { code: string }).code).toBe('metrics_token_required');
    const ok = await fetch(`${metricsBase}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
    expect(await ok.text()).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
    const elsewhere = await fetch(`${metricsBase}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(elsewhere.status).toBe(404);
  });
});
