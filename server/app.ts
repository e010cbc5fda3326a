import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config';
import { loggerOptions } from './infra/logging';
import { httpPlugin } from './infra/http';
import { requireMember, requireStaff } from './infra/auth';
import { unavailable } from './infra/errors';
import { closeInfra, openInfra, type Infra, type InfraOptions } from './infra/infra';
import { systemCtx } from './infra/db';
import { healthRoutes } from './modules/health/health.routes';
import { StaffService } from './modules/staff/staff.service';
import { staffRoutes } from './modules/staff/staff.routes';
import { MpSessionService, type MpLogin, type MpMembers } from './modules/mp-session/mp-session.service';
import { mpSessionRoutes } from './modules/mp-session/mp-session.routes';
import type { MemberTiers, StorePayments, StorePaymentEvents, StorePoints } from './modules/store/store.ports';
import { AddressService } from './modules/store/addresses.service';
import { CatalogService } from './modules/store/catalog.service';
import { MallService } from './modules/store/mall.service';
import { OrderService } from './modules/store/orders.service';
import { FulfilmentService } from './modules/store/fulfilment.service';
import { storeMemberRoutes } from './modules/store/store-member.routes';
import { storeAdminRoutes } from './modules/store/store-admin.routes';

declare module 'fastify' {
  interface FastifyInstance {
    infra: Infra;
    services: Services;
  }
}

/** Every feature service, wired explicitly: a reader sees the whole application here. */
export interface Services {
  staff: StaffService;
  mpSessions: MpSessionService;
  addresses: AddressService;
  catalog: CatalogService;
  mall: MallService;
  orders: OrderService;
  fulfilment: FulfilmentService;
  /** What the WeChat Pay notification dispatcher calls for store orders. */
  storePaymentEvents: StorePaymentEvents;
}

/** What the app needs from the WeChat boundary and the member ledger; each can be supplied to buildApp. */
export interface AppPorts {
  mpLogin: MpLogin;
  mpMembers: MpMembers;
  /** The member card shown after login. */
  memberCard: (memberId: string) => Promise<Record<string, unknown>>;
  storePoints: StorePoints;
  memberTiers: MemberTiers;
  storePayments: StorePayments;
}

export interface BuildOptions extends InfraOptions {
  config: Config;
  /** Adapters to plug in; a port left out answers 503 `not_connected` when used. */
  ports?: Partial<AppPorts>;
}

/** A port nobody supplied: every call fails with a clear 503 instead of a crash at boot. */
function notConnected<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_t, prop) => (prop === 'then' ? undefined : () => {
      throw unavailable('not_connected', `${name} is not connected`);
    }),
  });
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
  const ports = opts.ports ?? {};
  const memberCard = ports.memberCard ?? (async (memberId: string) => ({ id: memberId }));
  const storePoints = ports.storePoints ?? notConnected<StorePoints>('the points ledger');
  const memberTiers = ports.memberTiers ?? notConnected<MemberTiers>('member tiers');
  const storePayments = ports.storePayments ?? notConnected<StorePayments>('WeChat Pay');
  const addresses = new AddressService(infra.db);
  const catalog = new CatalogService(infra.db, memberTiers);
  const orders = new OrderService(infra.db, infra.queue, storePoints, memberTiers, storePayments, addresses, catalog, config.store, app.log.child({ module: 'store' }));
  const fulfilment = new FulfilmentService(infra.db, infra.queue, storePoints, memberTiers, storePayments, orders, app.log.child({ module: 'store' }));
  const services: Services = {
    staff: new StaffService(infra.db, infra.kv, config.adminSessionHours),
    mpSessions: new MpSessionService(
      infra.db,
      ports.mpLogin ?? notConnected<MpLogin>('WeChat login'),
      ports.mpMembers ?? notConnected<MpMembers>('the member directory'),
      config.mpSessionDays,
    ),
    addresses,
    catalog,
    mall: new MallService(infra.db, storePoints, addresses),
    orders,
    fulfilment,
    storePaymentEvents: fulfilment,
  };
  app.decorate('services', services);

  // Modules.
  await app.register(healthRoutes, { db: infra.db, kv: infra.kv });
  await app.register(
    async (admin) => {
      // preValidation: after the rate limit (onRequest) has counted the call, before the body is validated.
      admin.addHook('preValidation', requireStaff(services.staff));
      await admin.register(staffRoutes, { staff: services.staff });
      await admin.register(storeAdminRoutes, services);
    },
    { prefix: '/api/admin' },
  );
  await app.register(
    async (mp) => {
      // The member always comes from the session: no /api/mp route reads it from the body.
      mp.addHook('preValidation', requireMember(services.mpSessions));
      await mp.register(mpSessionRoutes, { sessions: services.mpSessions, memberCard });
      await mp.register(storeMemberRoutes, { ...services, points: storePoints });
    },
    { prefix: '/api/mp' },
  );

  app.addHook('onReady', async () => {
    const owner = await services.staff.ensureOwner(systemCtx, config.admin);
    if (owner === 'created') app.log.info({ username: config.admin?.username }, 'owner account created');
    await infra.queue.start();
  });

  return app;
}
