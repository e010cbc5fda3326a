import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config';
import { lazyChildLoggerFactory, loggerOptions } from './infra/logging';
import { httpPlugin } from './infra/http';
import { requireStaff } from './infra/auth';
import { closeInfra, openInfra, type Infra, type InfraOptions } from './infra/infra';
import { systemCtx } from './infra/db';
import { healthRoutes } from './modules/health/health.routes';
import { StaffService } from './modules/staff/staff.service';
import { staffRoutes } from './modules/staff/staff.routes';
import { resolveWechatCredentials } from './wechat/credentials';
import { createWechat, type Wechat } from './wechat/wechat';
import { wechatCallbackRoutes } from './wechat/callback.routes';
import { sandboxPlugin, type SandboxOptions } from './sandbox/sandbox.plugin';

declare module 'fastify' {
  interface FastifyInstance {
    infra: Infra;
    services: Services;
  }
}

/** Every feature service, wired explicitly: a reader sees the whole application here. */
export interface Services {
  staff: StaffService;
  /** The only way to WeChat: OA and mini-program APIs, and the inbound dispatcher modules register on. */
  wechat: Wechat;
}

export interface BuildOptions extends InfraOptions {
  config: Config;
  /** In sandbox mode: the simulated WeChat Pay the sandbox's people pay through. */
  sandboxPayments?: SandboxOptions['payments'];
}

export async function buildApp(opts: BuildOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const app = Fastify({
    logger: loggerOptions(config.logLevel),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: true,
    bodyLimit: 1024 * 1024,
    childLoggerFactory: lazyChildLoggerFactory,
  }).withTypeProvider<ZodTypeProvider>();

  // Infrastructure first: database (migrated), store, queue.
  const infra = await openInfra(config, app.log, opts);
  app.decorate('infra', infra);
  app.addHook('onClose', async () => closeInfra(infra));

  await app.register(httpPlugin, { kv: infra.kv, rateLimitPerMinute: config.rateLimitPerMinute, publicUrl: config.publicUrl });

  // Services.
  const wechatCredentials = resolveWechatCredentials(config.wechat, config.dataDir);
  const services: Services = {
    staff: new StaffService(infra.db, infra.kv, config.adminSessionHours),
    wechat: createWechat({ config: config.wechat, credentials: wechatCredentials, kv: infra.kv, log: app.log.child({ component: 'wechat' }) }),
  };
  app.decorate('services', services);

  // Modules.
  await app.register(healthRoutes, { db: infra.db, kv: infra.kv });
  await app.register(wechatCallbackRoutes, { callback: services.wechat.callback, appLogLevel: config.logLevel });
  if (config.wechat.sandbox) {
    // Never in production: loadConfig refuses SANDBOX with NODE_ENV=production.
    await app.register(sandboxPlugin, {
      prefix: '/sandbox',
      credentials: wechatCredentials,
      callbackUrl: `${config.publicUrl}/wechat/callback`,
      payments: opts.sandboxPayments,
    });
  }
  await app.register(
    async (admin) => {
      // preValidation: after the rate limit (onRequest) has counted the call, before the body is validated.
      admin.addHook('preValidation', requireStaff(services.staff));
      await admin.register(staffRoutes, { staff: services.staff });
    },
    { prefix: '/api/admin' },
  );

  app.addHook('onReady', async () => {
    const owner = await services.staff.ensureOwner(systemCtx, config.admin);
    if (owner === 'created') app.log.info({ username: config.admin?.username }, 'owner account created');
    await infra.queue.start();
  });

  return app;
}
