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
import { AppError } from './errors';
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

/** Everything every route shares: validation, OpenAPI, security headers, rate limits, metrics, one error shape. */
export const httpPlugin = fp<HttpOptions>(
  async (app, opts) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);

    await app.register(helmet, {
      // The API serves JSON; /docs and /sandbox serve their own pages with inline assets.
      contentSecurityPolicy: false,
    });
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
    await app.register(swaggerUi, { routePrefix: '/docs' });
    await app.register(metricsPlugin, { config: opts.metrics ?? { onAppPort: true } });

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
