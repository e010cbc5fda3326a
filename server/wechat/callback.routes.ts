import type { LogLevel } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { WechatCallbackService } from './callback.service';
import { XML_MAX_BYTES } from './xml';

const query = z.object({
  signature: z.string().max(64).optional(),
  timestamp: z.string().max(16).optional(),
  nonce: z.string().max(64).optional(),
  echostr: z.string().max(256).optional(),
  encrypt_type: z.string().max(16).optional(),
  msg_signature: z.string().max(64).optional(),
  openid: z.string().max(64).optional(),
});

const error = z.object({ code: z.string(), message: z.string() });

/**
 * The URL merchants paste into the WeChat console. Lean on purpose: WeChat's servers call it at launch-day rates,
 * so it skips the per-client rate limit (the signature check is cheaper than a store round trip and refuses
 * forgeries first) and logs only problems; it keeps the security headers and metrics.
 */
const QUIETER: Partial<Record<LogLevel, LogLevel>> = { trace: 'warn', debug: 'warn', info: 'warn' };

export const wechatCallbackRoutes: FastifyPluginAsyncZod<{ callback: WechatCallbackService; appLogLevel: string }> = async (app, opts) => {
  const { callback } = opts;
  // Access lines for every WeChat delivery are noise at launch-day rates: only warnings and errors, never louder than the app.
  const appLevel = opts.appLogLevel as LogLevel;
  const logLevel = QUIETER[appLevel] ?? appLevel;
  // The raw bytes, never re-serialised: the signature covers them. Any content type (WeChat sends text/xml).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: XML_MAX_BYTES }, (_req, body, done) => done(null, body));

  app.get(
    '/wechat/callback',
    {
      logLevel,
      config: { rateLimit: false },
      schema: {
        tags: ['wechat'],
        summary: 'WeChat console URL check: echoes echostr when the signature is WeChat’s',
        querystring: query,
        response: { 200: z.string(), 400: error, 401: error },
      },
    },
    async (req, reply) => reply.type('text/plain').send(await callback.verifyUrl(req.query)),
  );

  app.post(
    '/wechat/callback',
    {
      logLevel,
      helmet: false,
      config: { rateLimit: false },
      schema: {
        tags: ['wechat'],
        summary: 'Official Account messages and events (plaintext, compatible or safe mode)',
        querystring: query,
        response: { 200: z.string().describe('success, or the (encrypted) passive reply XML'), 400: error, 401: error, 413: error },
      },
    },
    async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const answer = await callback.handle(req.query, raw, req.id);
      return reply.type(answer.contentType).send(answer.body);
    },
  );
};
