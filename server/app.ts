import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config';
import { lazyChildLoggerFactory, loggerOptions } from './infra/logging';
import { httpPlugin } from './infra/http';
import { currentMember, requireMember, requireStaff } from './infra/auth';
import { closeInfra, openInfra, type Infra, type InfraOptions } from './infra/infra';
import { systemCtx } from './infra/db';
import { healthRoutes } from './modules/health/health.routes';
import { StaffService } from './modules/staff/staff.service';
import { staffRoutes } from './modules/staff/staff.routes';
import { createWxPay, credentialsFromConfig, type WxPayCredentials } from './wechat/pay/wxpay-setup';
import type { WxPayClient } from './wechat/pay/wxpay.client';
import type { WxPayNotificationService } from './wechat/pay/wxpay-notification.service';
import { wxPayNotifyRoutes } from './wechat/pay/wxpay-notify.routes';
import { platformCertificatesFrom } from './wechat/pay/wxpay-keys';
import { PaySandbox } from './sandbox/pay/pay-sandbox';
import { paySandboxRoutes } from './sandbox/pay/pay-sandbox.routes';
import { loadOrCreateSandboxPayKeys, sandboxMerchantCredentials, sandboxSideKeys } from './sandbox/pay/pay-sandbox-keys';
import { resolveWechatCredentials } from './wechat/credentials';
import { createWechat, type Wechat } from './wechat/wechat';
import { wechatCallbackRoutes } from './wechat/callback.routes';
import { sandboxPlugin, type SandboxOptions } from './sandbox/sandbox.plugin';
import { SandboxWorld } from './sandbox/sandbox-world';
import { DemoSeedService } from './modules/demo/demo-seed.service';
import { createMemberServices, defineMemberJobs, recoverImports, scheduleDaily, TAOBAO_IMPORT_JOB, type MemberServices } from './modules/members/member-services';
import { membersRoutes } from './modules/members/members.routes';
import { taobaoRoutes } from './modules/taobao/taobao.routes';
import { MpSessionService, type MpLogin, type MpMembers } from './modules/mp-session/mp-session.service';
import { mpSessionRoutes } from './modules/mp-session/mp-session.routes';
import { requirePrivacyConsent } from './modules/mp-session/privacy-consent';
import type { MemberTiers, StorePayments, StorePoints } from './modules/store/store.ports';
import { paymentsModule, type PaymentsService } from './modules/payments';
import { defineFlowJobs, FlowRunner } from './infra/flows';
import { AfterSalesService } from './modules/store/after-sales.service';
import { registerStorePayments } from './modules/store/store-payments';
import { AddressService } from './modules/store/addresses.service';
import { CatalogService } from './modules/store/catalog.service';
import { MallService } from './modules/store/mall.service';
import { OrderService } from './modules/store/orders.service';
import { FulfilmentService } from './modules/store/fulfilment.service';
import { storeMemberRoutes } from './modules/store/store-member.routes';
import { storeAdminRoutes } from './modules/store/store-admin.routes';
import { ParcelsService } from './modules/parcels/parcels.service';
import { ConversationService } from './modules/parcels/conversation.service';
import { parcelsRoutes } from './modules/parcels/parcels.routes';
import { ReviewRewardsService } from './modules/review-rewards/review-rewards.service';
import { reviewRewardsAdminRoutes, reviewRewardsMemberRoutes } from './modules/review-rewards/review-rewards.routes';
import { LocalFileStore } from './modules/review-rewards/screenshot-store';
import { CheckInService } from './modules/check-ins/check-ins.service';
import { checkInAdminRoutes, checkInMemberRoutes } from './modules/check-ins/check-ins.routes';
import { membersMpRoutes } from './modules/members/members-mp.routes';
import { registerWechatHandlers } from './wechat-handlers';
import { mpSessionPrivacy } from './modules/mp-session/mp-session.privacy';
import { parcelsPrivacy } from './modules/parcels/parcels.privacy';
import { storePrivacy } from './modules/store/store.privacy';
import { checkInsPrivacy } from './modules/check-ins/check-ins.privacy';
import { reviewRewardsPrivacy } from './modules/review-rewards/review-rewards.privacy';
import { memberTiersPort, mpPorts, parcelPorts, pointsPorts, reminderSender, reviewRewardPorts, storePaymentsPort } from './adapters';

declare module 'fastify' {
  interface FastifyInstance {
    infra: Infra;
    services: Services;
    /** WeChat Pay as the sandbox plays it; only in sandbox mode. */
    paySandbox?: PaySandbox;
  }
}

/** Every feature service, wired explicitly: a reader sees the whole application here. */
export interface Services extends MemberServices {
  staff: StaffService;
  /** WeChat Pay APIv3; null when WeChat Pay is off (production without WXPAY_ credentials). */
  wxpay: WxPayClient | null;
  /** Where modules register their WeChat Pay notification handlers (`on('TRANSACTION.SUCCESS', …)`). */
  wxpayNotifications: WxPayNotificationService;
  /** The only way to WeChat: OA and mini-program APIs, and the inbound dispatcher modules register on. */
  wechat: Wechat;
  mpSessions: MpSessionService;
  addresses: AddressService;
  catalog: CatalogService;
  mall: MallService;
  orders: OrderService;
  fulfilment: FulfilmentService;
  /** Payment intents and refunds of every module that sells something (server/modules/payments). */
  payments: PaymentsService;
  /** Flows of steps with undo across WeChat and the database (server/infra/flows.ts). */
  flows: FlowRunner;
  afterSales: AfterSalesService;
  parcels: ParcelsService;
  conversation: ConversationService;
  reviewRewards: ReviewRewardsService;
  checkIns: CheckInService;
  /** The sandbox's demo shop, seeded once on the first start (DEMO_SEED). */
  demo: DemoSeedService;
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
  /** In sandbox mode: the simulated WeChat Pay the sandbox's people pay through. */
  sandboxPayments?: SandboxOptions['payments'];
  /** Adapters to plug in instead of the real ledger and WeChat boundary (tests). */
  ports?: Partial<AppPorts>;
  /** false: the product registers no WeChat handlers (tests of the bare boundary register their own). */
  productHandlers?: boolean;
  /** The clock the shop's Shanghai day is read from by check-ins and review rewards (tests fix it). */
  clock?: () => Date;
  /** Plain lines for the person at the terminal (the demo login in sandbox mode); main.ts prints them boxed. */
  announce?: (lines: string[]) => void;
}


export async function buildApp(opts: BuildOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const app = Fastify({
    logger: loggerOptions(config.logLevel),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Off unless configured: otherwise any client picks the address every per-address limit counts.
    trustProxy: proxyTrust(config.trustProxy),
    bodyLimit: 1024 * 1024,
    childLoggerFactory: lazyChildLoggerFactory,
  }).withTypeProvider<ZodTypeProvider>();

  // WeChat Pay keys before anything opens, so a bad key fails the boot with nothing to clean up.
  const { creds: wxpayCreds, sandbox: paySandbox } = wxPayKeys(config, app.log);

  // Infrastructure first: database (migrated), store, queue.
  const infra = await openInfra(config, app.log, opts);
  app.decorate('infra', infra);
  app.addHook('onClose', async () => closeInfra(infra));
  app.addHook('onClose', async () => paySandbox?.close());

  await app.register(httpPlugin, { kv: infra.kv, rateLimitPerMinute: config.rateLimitPerMinute, publicUrl: config.publicUrl, metrics: config.metrics });
  if (!config.metrics.onAppPort && !config.metrics.listen) app.log.info('/metrics is not served: set METRICS_TOKEN or METRICS_PORT to collect metrics');

  const wxpay = createWxPay(wxpayCreds, {
    apiBase: config.wxpay.mode === 'off' ? '' : config.wxpay.apiBase,
    notifyUrl: `${config.publicUrl}/wechatpay/notify`,
    db: infra.db,
    log: app.log.child({ component: 'wxpay' }),
  });

  // Services.
  const wechatCredentials = resolveWechatCredentials(config.wechat, config.dataDir);
  const wechat = createWechat({ config: config.wechat, credentials: wechatCredentials, kv: infra.kv, log: app.log.child({ component: 'wechat' }) });
  const memberServices = createMemberServices(infra.db, infra.kv, infra.queue, config);
  const points = pointsPorts(memberServices);
  const mp = mpPorts(memberServices, wechat);
  // Tests may plug their own adapters; by default every port is the real ledger or the WeChat boundary.
  const ports = opts.ports ?? {};
  const memberCard = ports.memberCard ?? mp.memberCard;
  const storePoints = ports.storePoints ?? points;
  const memberTiers = ports.memberTiers ?? memberTiersPort(memberServices);
  const storePayments = ports.storePayments ?? storePaymentsPort(wechat, wxpay.client);
  const addresses = new AddressService(infra.db);
  const catalog = new CatalogService(infra.db, memberTiers);
  const flows = new FlowRunner(infra.db, infra.queue, app.log.child({ component: 'flows' }));
  defineFlowJobs(infra.queue, flows);
  const payments = paymentsModule({
    db: infra.db,
    queue: infra.queue,
    wxpay,
    appid: wechatCredentials.mp?.appid ?? wechatCredentials.appid,
    privacy: memberServices.privacy,
    log: app.log.child({ module: 'payments' }),
    listen: opts.productHandlers !== false,
  });
  const orders = new OrderService(infra.db, infra.queue, storePoints, memberTiers, payments, addresses, catalog, config.store, app.log.child({ module: 'store' }), flows);
  const fulfilment = new FulfilmentService(infra.db, infra.queue, storePoints, memberTiers, storePayments, payments, orders, app.log.child({ module: 'store' }));
  const afterSales = new AfterSalesService(infra.db, payments, flows, storePoints, app.log.child({ module: 'store' }));
  registerStorePayments({ payments, flows, orders, fulfilment, afterSales });
  const parcelSide = parcelPorts(memberServices, wechat);
  const parcels = new ParcelsService(infra.db, infra.queue, parcelSide.qr, parcelSide.users, parcelSide.members, {
    showQrUrl: (ticket) => `${config.wechat.sandbox ? `${config.wechat.apiBase}/cgi-bin` : 'https://mp.weixin.qq.com/cgi-bin'}/showqrcode?ticket=${encodeURIComponent(ticket)}`,
  });
  const rewardSide = reviewRewardPorts(memberServices, wechat, wxpay.client, app.log.child({ module: 'review-rewards' }));
  const staff = new StaffService(infra.db, infra.kv, config.adminSessionHours);
  const mall = new MallService(infra.db, storePoints, addresses);
  const reviewRewards = new ReviewRewardsService(
    infra.db,
    infra.queue,
    new LocalFileStore(`${config.uploadsDir}/review-screenshots`),
    rewardSide.members,
    rewardSide.transfers,
    rewardSide.notifier,
    opts.clock,
  );
  const demo = new DemoSeedService(
    infra.db,
    { staff, taobaoImport: memberServices.taobaoImport, parcels, reviewRewards, catalog, mall },
    { enabled: config.demoSeed, hasConfiguredOwner: config.admin !== undefined, brand: config.brandName, publicUrl: config.publicUrl, announce: opts.announce },
    app.log.child({ module: 'demo' }),
  );
  const services: Services = {
    staff,
    wxpay: wxpay.client,
    wxpayNotifications: wxpay.notifications,
    wechat,
    ...memberServices,
    mpSessions: new MpSessionService(infra.db, ports.mpLogin ?? mp.mpLogin, ports.mpMembers ?? mp.mpMembers, config.mpSessionDays),
    addresses,
    catalog,
    mall,
    orders,
    fulfilment,
    payments,
    flows,
    afterSales,
    parcels,
    conversation: new ConversationService(infra.db, infra.kv, parcels, parcelSide.members, parcelSide.users, {
      brand: config.brandName,
      mpAppid: wechatCredentials.mp?.appid,
      bindPagePath: 'packages/bind/index',
      fallbackUrl: config.publicUrl,
    }),
    reviewRewards,
    checkIns: new CheckInService(infra.db, infra.queue, points, reminderSender(wechat), opts.clock),
    demo,
  };
  if (opts.productHandlers !== false) registerWechatHandlers(services);
  // Export, erasure and merge reach every module that keeps something of the member, each in one transaction.
  services.privacy.register(
    mpSessionPrivacy(infra.db),
    parcelsPrivacy(infra.db, (ctx, id) => services.memberQuery.identitiesOf(ctx, id, 'oa_openid')),
    storePrivacy(infra.db),
    checkInsPrivacy(infra.db),
    reviewRewardsPrivacy(infra.db, services.reviewRewards, services.wxpayNotifications),
  );
  defineMemberJobs(infra.queue, services, app.log);
  app.decorate('services', services);

  // Modules.
  await app.register(healthRoutes, { db: infra.db, kv: infra.kv });
  await app.register(wxPayNotifyRoutes, { notifications: services.wxpayNotifications });
  if (paySandbox) {
    app.decorate('paySandbox', paySandbox);
    await app.register(paySandboxRoutes, { prefix: '/sandbox/pay', sandbox: paySandbox });
  }
  await app.register(wechatCallbackRoutes, { callback: services.wechat.callback, appLogLevel: config.logLevel });
  // The address the README gives: the sandbox in sandbox mode (never mounted in production), else the API docs.
  app.get('/', { schema: { hide: true }, config: { rateLimit: false } }, async (_req, reply) => reply.redirect(config.wechat.sandbox ? '/sandbox' : '/docs'));
  let sandboxWorld: SandboxWorld | undefined;
  if (config.wechat.sandbox) {
    // Never in production: loadConfig refuses SANDBOX with NODE_ENV=production.
    const c = wechatCredentials;
    if (c.mp) sandboxWorld = new SandboxWorld({ appid: c.appid, secret: c.secret }, { appid: c.mp.appid, secret: c.mp.secret });
    await app.register(sandboxPlugin, {
      prefix: '/sandbox',
      world: sandboxWorld,
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
      await admin.register(storeAdminRoutes, services);
      await admin.register(parcelsRoutes, {
        parcels: services.parcels,
        conversation: services.conversation,
        countClaims: (ctx, memberIds) => services.reviewRewards.countClaimsByMembers(ctx, memberIds),
        brand: config.brandName,
      });
      await admin.register(reviewRewardsAdminRoutes, { rewards: services.reviewRewards });
      await admin.register(checkInAdminRoutes, { checkIns: services.checkIns });
    },
    { prefix: '/api/admin' },
  );
  await app.register(
    async (mp) => {
      // The member always comes from the session: no /api/mp route reads it from the body.
      mp.addHook('preValidation', requireMember(services.mpSessions));
      // Routes marked collectsPersonalData wait for the current privacy notice to be accepted.
      mp.addHook('preValidation', requirePrivacyConsent(services.mpSessions));
      await mp.register(mpSessionRoutes, { sessions: services.mpSessions, memberCard });
      await mp.register(storeMemberRoutes, { ...services, points: storePoints });
      await mp.register(membersMpRoutes, { services, memberCard });
      await mp.register(checkInMemberRoutes, { checkIns: services.checkIns });
      await mp.register(reviewRewardsMemberRoutes, {
        rewards: services.reviewRewards,
        memberOf: (req) => currentMember(req).memberId,
        mchId: services.wxpay?.mchid ?? '',
        mpAppId: wechatCredentials.mp?.appid ?? '',
      });
    },
    { prefix: '/api/mp' },
  );

  app.addHook('onReady', async () => {
    const owner = await services.staff.ensureOwner(systemCtx, config.admin);
    if (owner === 'created') app.log.info({ username: config.admin?.username }, 'owner account created');
    await infra.queue.start();
    await flows.resumeAll(systemCtx);
    await recoverImports(infra.queue, services, app.log);
    if (config.queueEnabled) await scheduleDaily(infra.queue);
    if (sandboxWorld) await restoreParcelCodes(services.parcels, sandboxWorld);
  });
  // After listening: the demo's QR code is asked of the sandbox over HTTP, like every call to WeChat.
  app.addHook('onListen', async () => services.demo.start(systemCtx));

  return app;
}

/**
 * TRUST_PROXY as Fastify takes it. A hop count trusts the nearest n peers whoever they are (Fastify itself refuses
 * a bare number): right only when nothing reaches the app but through those proxies.
 */
function proxyTrust(trust: Config['trustProxy']): boolean | string[] | ((addr: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_addr, hop) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}

/** The simulated WeChat lives in memory: the parcel codes the server made before a restart are told to it again. */
async function restoreParcelCodes(parcels: ParcelsService, world: SandboxWorld): Promise<void> {
  for (const b of await parcels.listBatches(systemCtx)) {
    if (!b.qrTicket || !b.qrUrl) continue;
    world.restoreQrCode({
      ticket: b.qrTicket,
      actionName: b.qrKind === 'permanent' ? 'QR_LIMIT_STR_SCENE' : 'QR_STR_SCENE',
      scene: b.scene,
      permanent: b.qrKind === 'permanent',
      url: b.qrUrl,
      createdAt: Date.parse(b.createdAt),
      expiresAt: b.qrExpiresAt ? Date.parse(b.qrExpiresAt) : undefined,
    });
  }
}

/** Real WeChat Pay credentials, or sandbox keys shared by the app and the simulated WeChat Pay it mounts. */
function wxPayKeys(config: Config, log: FastifyBaseLogger): { creds?: WxPayCredentials; sandbox?: PaySandbox } {
  if (config.wxpay.mode === 'live') return { creds: credentialsFromConfig(config.wxpay) };
  if (config.wxpay.mode === 'off') return {};
  const keyFile = loadOrCreateSandboxPayKeys(config.dataDir);
  const m = sandboxMerchantCredentials(keyFile);
  const sandbox = new PaySandbox({
    keys: sandboxSideKeys(keyFile),
    timeScale: config.wxpay.timeScale,
    onError: (msg, err) => log.error({ err }, msg),
  });
  return { creds: { ...m, platformCertificates: platformCertificatesFrom(m.platformCertificatePem) }, sandbox };
}
