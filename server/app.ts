import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config';
import { loggerOptions } from './infra/logging';
import { httpPlugin } from './infra/http';
import { requireStaff } from './infra/auth';
import { closeInfra, openInfra, type Infra, type InfraOptions } from './infra/infra';
import { systemCtx } from './infra/db';
import { healthRoutes } from './modules/health/health.routes';
import { StaffService } from './modules/staff/staff.service';
import { staffRoutes } from './modules/staff/staff.routes';
import { createMemberServices, defineMemberJobs, scheduleDaily, TAOBAO_IMPORT_JOB, type MemberServices } from './modules/members/member-services';
import { membersRoutes } from './modules/members/members.routes';
import { taobaoRoutes } from './modules/taobao/taobao.routes';

declare module 'fastify' {
  interface FastifyInstance {
    infra: Infra;
    services: Services;
  }
}

/** Every feature service, wired explicitly: a reader sees the whole application here. */
export interface Services extends MemberServices {
  staff: StaffService;
}

export interface BuildOptions extends InfraOptions {
  config: Config;
}

export async function buildApp(opts: BuildOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const app = Fastify({
    logger: loggerOptions(config.logLevel),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: true,
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();

  // Infrastructure first: database (migrated), store, queue.
  const infra = await openInfra(config, app.log, opts);
  app.decorate('infra', infra);
  app.addHook('onClose', async () => closeInfra(infra));

  await app.register(httpPlugin, { kv: infra.kv, rateLimitPerMinute: config.rateLimitPerMinute, publicUrl: config.publicUrl });

  // Services.
  const services: Services = {
    staff: new StaffService(infra.db, infra.kv, config.adminSessionHours),
    ...createMemberServices(infra.db, infra.kv, infra.queue, config),
  };
  defineMemberJobs(infra.queue, services, app.log);
  app.decorate('services', services);

  // Modules.
  await app.register(healthRoutes, { db: infra.db, kv: infra.kv });
  await app.register(
    async (admin) => {
      // preValidation: after the rate limit (onRequest) has counted the call, before the body is validated.
      admin.addHook('preValidation', requireStaff(services.staff));
      await admin.register(staffRoutes, { staff: services.staff });
      await admin.register(membersRoutes, { services });
      await admin.register(taobaoRoutes, {
        imports: services.taobaoImport,
        queue: infra.queue,
        db: infra.db,
        dataDir: config.dataDir,
        maxBytes: config.importMaxBytes,
        jobName: TAOBAO_IMPORT_JOB,
      });
    },
    { prefix: '/api/admin' },
  );

  app.addHook('onReady', async () => {
    const owner = await services.staff.ensureOwner(systemCtx, config.admin);
    if (owner === 'created') app.log.info({ username: config.admin?.username }, 'owner account created');
    await infra.queue.start();
    if (config.queueEnabled) await scheduleDaily(infra.queue);
  });

  return app;
}
