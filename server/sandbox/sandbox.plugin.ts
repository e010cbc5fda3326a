import type { FastifyError, FastifyPluginAsync } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../infra/errors';
import { CallbackCrypto } from '../wechat/callback-crypto';
import type { WechatCredentials } from '../wechat/credentials';
import { CallbackDeliverer } from './callback-deliverer';
import { sandboxControlRoutes } from './control.routes';
import type { SandboxDemoSource, SandboxMemberSource } from './sandbox-demo';
import type { SandboxPayments } from './sandbox-payments';
import { phoneRoutes } from './phone/phone.routes';
import { readSandboxPageFile, SANDBOX_PAGE_FILES, sandboxPage } from './sandbox-page';
import { SandboxWorld } from './sandbox-world';
import type { SandboxState } from './sandbox-state';
import { sandboxWechatApiRoutes } from './wechat-api.routes';

export interface SandboxOptions {
  /** The accounts the sandbox plays (the app's own, so both sides agree on keys). */
  credentials: WechatCredentials;
  /** The server's callback URL (PUBLIC_URL + /wechat/callback); read at each delivery. */
  callbackUrl: string | (() => string);
  /** The simulated WeChat Pay, when mounted: enables the people's pay and confirm-transfer. */
  payments?: SandboxPayments;
  /** A world to share (tests); a new one by default, kept in `state`. */
  world?: SandboxWorld;
  /** Where a new world is kept across restarts (the app's: DATA_DIR/sandbox); memory by default. */
  state?: SandboxState;
  /** The demo shop to show newcomers (the app's seeded batch and orders to try); absent when there is none. */
  demo?: SandboxDemoSource;
  /** The app's view of a person as a member (tier, points, bound orders), for their card; absent → not shown. */
  member?: SandboxMemberSource;
  /** How long the server has to answer a delivery (WeChat: 5 s). */
  deliveryTimeoutMs?: number;
}

/**
 * WeChat, simulated: the OA and mini-program APIs (/cgi-bin, /sns, /wxa), the control API (/api) and the page (/).
 * Mounted at /sandbox in sandbox mode; never in production (the config refuses it).
 */
export const sandboxPlugin: FastifyPluginAsync<SandboxOptions> = async (app, opts) => {
  const c = opts.credentials;
  if (!c.aesKey || !c.mp) throw new Error('the sandbox needs WECHAT_AES_KEY and a mini-program (MP_APPID, MP_SECRET)');
  const world = opts.world ?? new SandboxWorld({ appid: c.appid, secret: c.secret }, { appid: c.mp.appid, secret: c.mp.secret }, opts.state);
  const crypto = new CallbackCrypto({ token: c.token, appid: c.appid, aesKey: c.aesKey });
  const url = opts.callbackUrl;
  const deliverer = new CallbackDeliverer(crypto, typeof url === 'function' ? url : () => url, opts.deliveryTimeoutMs);

  await app.register(sandboxWechatApiRoutes, { world, deliverer });
  await app.register(
    async (control) => {
      // The same {code, message} shape as the app, also when the sandbox runs alone.
      control.setErrorHandler((err: FastifyError | AppError, req, reply) => {
        if (err instanceof AppError) return reply.code(err.statusCode).send({ code: err.code, message: err.message });
        if (hasZodFastifySchemaValidationErrors(err)) {
          return reply.code(400).send({ code: 'invalid_request', message: err.validation.map((v) => `${v.instancePath || '/'} ${v.message}`).join('; ') });
        }
        const status = err.statusCode ?? 500;
        if (status >= 500) req.log.error({ err }, 'sandbox control failed');
        return reply.code(status).send({ code: status >= 500 ? 'internal_error' : (err.code ?? 'bad_request').replace(/^FST_ERR_/, '').toLowerCase(), message: status >= 500 ? 'Internal server error' : err.message });
      });
      await control.register(sandboxControlRoutes, { world, deliverer, payments: opts.payments, demo: opts.demo, member: opts.member });
    },
    { prefix: '/api' },
  );
  await app.register(phoneRoutes);
  const page = sandboxPage(app.prefix);
  app.get('/', { schema: { hide: true }, config: { rateLimit: false } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
  app.get<{ Params: { name: string } }>('/page/:name', { schema: { hide: true }, config: { rateLimit: false } }, async (req, reply) => {
    const type = SANDBOX_PAGE_FILES[req.params.name];
    if (!type) return reply.code(404).send({ code: 'not_found', message: 'No such file' });
    return reply.type(type).header('cache-control', 'no-cache').send(await readSandboxPageFile(req.params.name));
  });
};
