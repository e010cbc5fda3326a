import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fp from 'fastify-plugin';
import { Registry, Histogram, collectDefaultMetrics } from 'prom-client';
import type { MetricsConfig } from '../config';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
    /**
     * Binds the metrics listener (METRICS_HOST:METRICS_PORT) when one is configured; the process calls it after
     * listen, so a CLI that builds the app binds nothing. A busy port fails it. Undefined without a listener.
     */
    listenMetrics(): Promise<AddressInfo | undefined>;
  }
}

const DENIED = Object.freeze({ code: 'metrics_token_required', message: 'Authorization: Bearer <METRICS_TOKEN> is required' });

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time: the bearer token of the request is METRICS_TOKEN. */
function tokenMatches(expected: Buffer, header: string | undefined): boolean {
  const [scheme, token] = (header ?? '').split(' ');
  return scheme?.toLowerCase() === 'bearer' && !!token && timingSafeEqual(expected, digest(token.trim()));
}

/**
 * Prometheus metrics: process defaults plus a request-duration histogram by route. Served where MetricsConfig says:
 * on the app's port, on a listener of its own (listenMetrics), behind a bearer token, or nowhere.
 */
export const metricsPlugin = fp<{ config: MetricsConfig }>(
  async (app, { config }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    app.decorate('metrics', registry);
    // A callback hook, not an async one: no promise per request on every route.
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      duration.observe({ method: req.method, route, status: reply.statusCode }, reply.elapsedTime / 1000);
      done();
    });
    const expected = config.token === undefined ? undefined : digest(config.token);
    const allowed = (authorization: string | undefined) => expected === undefined || tokenMatches(expected, authorization);

    if (config.onAppPort) {
      app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
        // Answered here: this route is registered before the app's error handler is.
        if (!allowed(req.headers.authorization)) return reply.code(401).send(DENIED);
        reply.header('content-type', registry.contentType);
        return registry.metrics();
      });
    }

    let server: Server | undefined;
    app.decorate('listenMetrics', async () => {
      const listen = config.listen;
      if (!listen) return undefined;
      if (!server) {
        const s = createServer((req, res) => void answer(req).then(({ status, type, body }) => res.writeHead(status, { 'content-type': type }).end(body)));
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(listen.port, listen.host, () => resolve());
        });
        server = s;
        app.log.info({ address: `${listen.host}:${(s.address() as AddressInfo).port}` }, 'metrics served on their own listener');
      }
      return server.address() as AddressInfo;
    });
    app.addHook('onClose', async () => {
      if (!server) return;
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      server.closeAllConnections(); // a scraper's keep-alive connection must not hold the shutdown
      await closed;
    });
    const json = 'application/json; charset=utf-8';
    async function answer(req: IncomingMessage): Promise<{ status: number; type: string; body: string }> {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        return { status: 404, type: json, body: JSON.stringify({ code: 'route_not_found', message: 'Only GET /metrics is served here' }) };
      }
      if (!allowed(req.headers.authorization)) {
        return { status: 401, type: json, body: JSON.stringify(DENIED) };
      }
      try {
        return { status: 200, type: registry.contentType, body: await registry.metrics() };
      } catch (err) {
        app.log.error({ err }, 'metrics collection failed');
        return { status: 500, type: json, body: JSON.stringify({ code: 'internal_error', message: 'Internal server error' }) };
      }
    }
  },
  { name: 'metrics' },
);
