import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config';
import { lazyChildLoggerFactory, loggerOptions, prettyLogs } from './infra/logging';
import { httpPlugin } from './infra/http';
import { requireMember, requireStaff } from './infra/auth';
import { closeInfra, openInfra, type Infra, type InfraOptions } from './infra/infra';
import { systemCtx } from './infra/db';
import { createWxPay, credentialsFromConfig, type WxPayCredentials } from './wechat/pay/wxpay-setup';
import { wxPayNotifyRoutes } from './wechat/pay/wxpay-notify.routes';
import { WxPayNotification } from './wechat/pay/wxpay-notification.entity';
import { platformCertificatesFrom } from './wechat/pay/wxpay-keys';
import { PaySandbox } from './sandbox/pay/pay-sandbox';
import { paySandboxRoutes } from './sandbox/pay/pay-sandbox.routes';
import { loadOrCreateSandboxPayKeys, sandboxMerchantCredentials, sandboxSideKeys } from './sandbox/pay/pay-sandbox-keys';
import { resolveWechatCredentials } from './wechat/credentials';
import { createWechat } from './wechat/wechat';
import { wechatCallbackRoutes } from './wechat/callback.routes';
import { sandboxPlugin, type SandboxOptions } from './sandbox/sandbox.plugin';
import { openSandboxState, type SandboxState } from './sandbox/sandbox-state';
import { PrivacyRegistry } from './infra/privacy';
import { defineFlowJobs, FlowRunner } from './infra/flows';
import { requirePrivacyConsent } from './modules/mp-session/privacy-consent';
import { landingRoutes } from './landing/landing.routes';
import { moduleEntities, type AnyModule, type ModuleContext, type ModuleEnv, type PortOverrides, type Services } from './modules/module';
import { healthModule } from './modules/health/health.module';
import { staffModule } from './modules/staff/staff.module';
import { pointsModule } from './modules/points/points.module';
import { membersModule } from './modules/members/members.module';
import { mpSessionModule } from './modules/mp-session/mp-session.module';
import { parcelsModule } from './modules/parcels/parcels.module';
import { paymentsModule } from './modules/payments/payments.module';
import { storeModule } from './modules/store/store.module';
import { checkInsModule } from './modules/check-ins/check-ins.module';
import { reviewRewardsModule } from './modules/review-rewards/review-rewards.module';
import { giftBoxModule } from './modules/gift-box/gift-box.module';
import { demoModule } from './sandbox/demo/demo.module';

/**
 * The application's modules, in order: each is its folder and its definition (server/modules/module.ts). A module
 * is wired after those it builds on; its privacy hooks run in this order (erasure in reverse). Adding a module is
 * its folder, its migrations and one line here.
 */
export const appModules: readonly AnyModule[] = [
  healthModule,
  staffModule,
  pointsModule,
  membersModule,
  mpSessionModule,
  parcelsModule,
  paymentsModule,
  storeModule,
  checkInsModule,
  reviewRewardsModule,
  giftBoxModule,
  demoModule,
];

/** Every entity: the platform's (WeChat Pay's notifications) and every module's. */
export const appEntities = (modules: readonly AnyModule[] = appModules): Function[] => [WxPayNotification, ...moduleEntities(modules)];

declare module 'fastify' {
  interface FastifyInstance {
    infra: Infra;
    services: Services;
    /** WeChat Pay as the sandbox plays it; only in sandbox mode. */
    paySandbox?: PaySandbox;
  }
}

export type { Services } from './modules/module';

/** What the app needs from the WeChat boundary and the member ledger; each can be supplied to buildApp (tests). */
export type AppPorts = PortOverrides;

export interface BuildOptions extends Omit<InfraOptions, 'entities'> {
  config: Config;
  /** In sandbox mode: the simulated WeChat Pay the sandbox's people pay through. */
  sandboxPayments?: SandboxOptions['payments'];
  /** Adapters to plug in instead of the real ledger and WeChat boundary (tests). */
  ports?: Partial<AppPorts>;
  /** false: the product registers no WeChat handlers (tests of the bare boundary register their own). */
  productHandlers?: boolean;
  /** The modules to wire, in order (appModules unless a test adds one of its own). */
  modules?: readonly AnyModule[];
  /** The clock the shop's Shanghai day is read from by check-ins and review rewards (tests fix it). */
  clock?: () => Date;
  /** Plain lines for the person at the terminal (the demo login in sandbox mode); main.ts prints them boxed. */
  announce?: (lines: string[]) => void;
  /** stdout is a terminal (main.ts): LOG_FORMAT=auto then logs readable lines instead of JSON. */
  stdoutIsTerminal?: boolean;
}


export async function buildApp(opts: BuildOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const modules = opts.modules ?? appModules;
  checkModuleNames(modules);
  const app = Fastify({
    logger: loggerOptions(config.logLevel, { pretty: prettyLogs(config.logFormat, opts.stdoutIsTerminal === true) }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Off unless configured: otherwise any client picks the address every per-address limit counts.
    trustProxy: proxyTrust(config.trustProxy),
    bodyLimit: 1024 * 1024,
    childLoggerFactory: lazyChildLoggerFactory,
  }).withTypeProvider<ZodTypeProvider>();

  // The simulated WeChat's world and WeChat Pay's orders, kept under DATA_DIR (opened once a sandbox reads it).
  const sandboxState = openSandboxState(config.dataDir, app.log.child({ component: 'sandbox' }));
  // WeChat Pay keys before anything opens, so a bad key fails the boot with nothing to clean up.
  const { creds: wxpayCreds, sandbox: paySandbox } = wxPayKeys(config, app.log, sandboxState);

  // Infrastructure first: database (migrated), store, queue.
  const infra = await openInfra(config, app.log, { ...opts, entities: appEntities(modules) });
  app.decorate('infra', infra);
  app.addHook('onClose', async () => closeInfra(infra));
  app.addHook('onClose', async () => {
    paySandbox?.close();
    sandboxState.close();
  });

  await app.register(httpPlugin, { kv: infra.kv, rateLimitPerMinute: config.rateLimitPerMinute, publicUrl: config.publicUrl, metrics: config.metrics });
  if (!config.metrics.onAppPort && !config.metrics.listen) app.log.info('/metrics is not served: set METRICS_TOKEN or METRICS_PORT to collect metrics');

  const wxpay = createWxPay(wxpayCreds, {
    apiBase: config.wxpay.mode === 'off' ? '' : config.wxpay.apiBase,
    notifyUrl: `${config.publicUrl}/wechatpay/notify`,
    db: infra.db,
    log: app.log.child({ component: 'wxpay' }),
  });

  // The platform's services, then every module's, in order.
  const wechatCredentials = resolveWechatCredentials(config.wechat, config.dataDir);
  const wechat = createWechat({ config: config.wechat, credentials: wechatCredentials, kv: infra.kv, log: app.log.child({ component: 'wechat' }) });
  const flows = new FlowRunner(infra.db, infra.queue, app.log.child({ component: 'flows' }));
  defineFlowJobs(infra.queue, flows);
  const services = { wechat, wxpay: wxpay.client, wxpayNotifications: wxpay.notifications, privacy: new PrivacyRegistry(), flows } as Services;
  const context: ModuleContext = { infra, config, log: app.log, overrides: opts.ports ?? {}, clock: opts.clock, announce: opts.announce };
  const wired = wireModules(modules, context, services);
  for (const { def, env } of wired) {
    for (const job of def.jobs?.(env) ?? []) infra.queue.define(job);
    for (const s of def.schedules ?? []) infra.queue.schedule(s.job, s.cron, s.tz);
    if (opts.productHandlers !== false) {
      def.wechatInbound?.(wechat.inbound, env);
      def.wxpayNotifications?.(wxpay.notifications, env);
    }
    // Export, erasure and merge reach every module that keeps something of the member, each in one transaction.
    services.privacy.register(...(def.privacy?.(env) ?? []));
  }
  app.decorate('services', services);

  // Routes.
  for (const { def, env } of wired) if (def.routes) await app.register(async (scope) => def.routes!(scope, env));
  await app.register(wxPayNotifyRoutes, { notifications: services.wxpayNotifications });
  if (paySandbox) {
    app.decorate('paySandbox', paySandbox);
    // Refunds processing and notifications pending at the last stop go on once the merchant can be reached.
    app.addHook('onListen', async () => paySandbox.resume());
    await app.register(paySandboxRoutes, { prefix: '/sandbox/pay', sandbox: paySandbox });
  }
  await app.register(wechatCallbackRoutes, { callback: services.wechat.callback, appLogLevel: config.logLevel });
  // The address the README gives: what Snowball is, with the sandbox and its phones in sandbox mode.
  await app.register(landingRoutes, { sandbox: config.wechat.sandbox, publicUrl: config.publicUrl });
  if (config.wechat.sandbox) {
    // Never in production: loadConfig refuses SANDBOX with NODE_ENV=production.
    await app.register(sandboxPlugin, {
      prefix: '/sandbox',
      state: sandboxState,
      demo: config.demoSeed ? () => services.demo.view(systemCtx) : undefined,
      member: async (p) => {
        const members = services.members;
        const id = (await members.findByIdentity(systemCtx, 'unionid', p.unionid)) ?? (await members.findByIdentity(systemCtx, 'mp_openid', p.mpOpenid)) ?? (await members.findByIdentity(systemCtx, 'oa_openid', p.oaOpenid));
        if (!id) return null;
        const card = await services.memberQuery.mpCard(systemCtx, id);
        return { tier: card.tier.name, points: card.pointsBalance, boundOrders: card.taobaoBuyer?.ordersCount ?? 0, buyer: card.taobaoBuyer?.nickMasked ?? null };
      },
      credentials: wechatCredentials,
      callbackUrl: `${config.publicUrl}/wechat/callback`,
      payments: opts.sandboxPayments ?? paySandbox,
    });
  }
  await app.register(
    async (admin) => {
      // preValidation: after the rate limit (onRequest) has counted the call, before the body is validated.
      admin.addHook('preValidation', requireStaff(services.staff));
      for (const { def, env } of wired) if (def.adminRoutes) await admin.register(async (scope) => def.adminRoutes!(scope, env));
    },
    { prefix: '/api/admin' },
  );
  await app.register(
    async (mp) => {
      // The member always comes from the session: no /api/mp route reads it from the body.
      mp.addHook('preValidation', requireMember(services.mpSessions));
      // Routes marked collectsPersonalData wait for the current privacy notice to be accepted.
      mp.addHook('preValidation', requirePrivacyConsent(services.mpSessions));
      for (const { def, env } of wired) if (def.memberRoutes) await mp.register(async (scope) => def.memberRoutes!(scope, env));
    },
    { prefix: '/api/mp' },
  );

  app.addHook('onReady', async () => {
    await infra.queue.start();
    // Flows left open by a stop go on from the step they reached.
    await flows.resumeAll(systemCtx);
    for (const { def, env } of wired) await def.onReady?.(env);
  });
  // The first listener starts as the server listens (no await before it): the demo seed is under way when listen returns.
  const listeners = wired.filter(({ def }) => def.onListen);
  app.addHook('onListen', async () => {
    for (const { def, env } of listeners) await def.onListen!(env);
  });

  return app;
}

/** Before anything opens: a module listed twice is a wiring mistake. */
function checkModuleNames(modules: readonly AnyModule[]): void {
  const names = new Set<string>();
  for (const def of modules) {
    if (names.has(def.name)) throw new Error(`module "${def.name}" is listed twice`);
    names.add(def.name);
  }
}

/**
 * Builds each module in order: its ports over the services built so far (read lazily where a module needs one wired
 * after it), then its services, merged into the app's.
 */
function wireModules(modules: readonly AnyModule[], context: ModuleContext, services: Services): Array<{ def: AnyModule; env: ModuleEnv<unknown> }> {
  return modules.map((def) => {
    const env = { ...context, services, ports: undefined as unknown };
    env.ports = def.needs?.(env as ModuleEnv<undefined>);
    const own = def.services?.(env) ?? {};
    for (const key of Object.keys(own)) {
      if (key in services) throw new Error(`module "${def.name}" provides service "${key}", which another already provides`);
    }
    Object.assign(services, own);
    return { def, env };
  });
}

/**
 * TRUST_PROXY as Fastify takes it. A hop count trusts the nearest n peers whoever they are (Fastify itself refuses
 * a bare number): right only when nothing reaches the app but through those proxies.
 */
function proxyTrust(trust: Config['trustProxy']): boolean | string[] | ((addr: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_addr, hop) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}

/** Real WeChat Pay credentials, or sandbox keys shared by the app and the simulated WeChat Pay it mounts. */
function wxPayKeys(config: Config, log: FastifyBaseLogger, state: SandboxState): { creds?: WxPayCredentials; sandbox?: PaySandbox } {
  if (config.wxpay.mode === 'live') return { creds: credentialsFromConfig(config.wxpay) };
  if (config.wxpay.mode === 'off') return {};
  const keyFile = loadOrCreateSandboxPayKeys(config.dataDir);
  const m = sandboxMerchantCredentials(keyFile);
  const sandbox = new PaySandbox({
    keys: sandboxSideKeys(keyFile),
    timeScale: config.wxpay.timeScale,
    onError: (msg, err) => log.error({ err }, msg),
    state,
  });
  return { creds: { ...m, platformCertificates: platformCertificatesFrom(m.platformCertificatePem) }, sandbox };
}
