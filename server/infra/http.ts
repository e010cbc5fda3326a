import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyError } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { AppError, invalid } from './errors';
import type { KvStore } from './kv';
import { kvRateLimitStore } from './rate-limit-store';
import { metricsPlugin } from './metrics';
import type { MetricsConfig } from '../config';

export interface HttpOptions {
  kv: KvStore;
  rateLimitPerMinute: number;
  publicUrl: string;
  /** Where /metrics is served; default: on this app's port, open (a bare app in tests). */
  metrics?: MetricsConfig;
}

/**
 * The Content-Security-Policy of every answer: the API's JSON and the pages the server serves (/docs loads only its
 * own files, and so do the sandbox page and phones: nothing inline is allowed).
 * No upgrade-insecure-requests: the sandbox and development run on plain http://127.0.0.1.
 */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
});

/** Everything every route shares: validation, OpenAPI, security headers, rate limits, metrics, one error shape. */
export const httpPlugin = fp<HttpOptions>(
  async (app, opts) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);

    await app.register(helmet, { contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES } });
    await app.register(rateLimit, {
      global: true,
      max: opts.rateLimitPerMinute,
      timeWindow: 60_000,
      store: kvRateLimitStore(opts.kv),
      errorResponseBuilder: (_req, ctx) => ({
        statusCode: 429,
        code: 'rate_limited',
        message: `Too many requests; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
      }),
    });
    await app.register(swagger, {
      openapi: {
        info: { title: 'Snowball API', version: '0.1.0', description: 'WeChat private-domain system for Taobao / Tmall merchants' },
        servers: [{ url: opts.publicUrl }],
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        },
      },
      transform: jsonSchemaTransform,
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      // Swagger UI sets style attributes as it renders; its scripts stay 'self' only.
      transformStaticCSP: (header) => header.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
    });
    await app.register(metricsPlugin, { config: opts.metrics ?? { onAppPort: true } });

    // Checked once for every route, schema or not: PostgreSQL text cannot hold U+0000, so a NUL anywhere in what a
    // client sent is bad input, not a database failure later.
    app.addHook('preHandler', async (req) => {
      for (const [part, value] of [['body', req.body], ['querystring', req.query], ['params', req.params]] as const) {
        const at = nulPath(value);
        if (at !== undefined) throw invalid('invalid_request', `Invalid ${part}: ${at || '/'} must not contain a NUL character (U+0000)`, [{ path: at, message: 'must not contain U+0000' }]);
      }
    });

    app.setNotFoundHandler((req, reply) => {
      reply.code(404).send({ code: 'route_not_found', message: `No route ${req.method} ${req.url.split('?')[0]}` });
    });

    app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
      if (err instanceof AppError) {
        if (err.statusCode >= 500) req.log.warn({ err }, 'unavailable');
        return reply.code(err.statusCode).send({ code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) });
      }
      if (hasZodFastifySchemaValidationErrors(err)) {
        return reply.code(400).send({
          code: 'invalid_request',
          message: `Invalid ${err.validationContext ?? 'request'}: ${err.validation.map((v) => `${v.instancePath || '/'} ${v.message}`).join('; ')}`,
          details: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
        });
      }
      if (isResponseSerializationError(err)) {
        req.log.error({ err, cause: err.cause }, 'response did not match its schema');
        return reply.code(500).send({ code: 'internal_error', message: 'Internal server error' });
      }
      const status = err.statusCode ?? 500;
      if (status >= 500) {
        req.log.error({ err }, 'request failed');
        return reply.code(status).send({ code: 'internal_error', message: 'Internal server error' });
      }
      if (status === 429) return reply.code(429).send({ code: 'rate_limited', message: err.message });
      // Fastify's own 4xx (bad JSON, body too large, unsupported media type): a stable lowercase code.
      const code = (err.code ?? 'bad_request').replace(/^FST_ERR_/, '').toLowerCase();
      return reply.code(status).send({ code, message: err.message });
    });
  },
  { name: 'http' },
);

/** Where in a parsed request a string (or an object key) holds U+0000, as a JSON pointer; undefined when nowhere. */
export function nulPath(root: unknown): string | undefined {
  const todo: Array<[unknown, string]> = [[root, '']];
  while (todo.length > 0) {
    const [value, at] = todo.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return at;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) todo.push([value[i], `${at}/${i}`]);
    } else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k.includes('\u0000')) return `${at}/${k.replace(/\u0000/g, '\\u0000')}`;
        todo.push([v, `${at}/${k}`]);
      }
    }
  }
  return undefined;
}
