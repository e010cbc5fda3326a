import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from '../config';
import type { Infra } from '../infra/infra';
import type { JobDefinition } from '../infra/queue';
import type { PrivacyHooks, PrivacyRegistry } from '../infra/privacy';
import type { FlowRunner } from '../infra/flows';
import type { InboundDispatcher } from '../wechat/inbound';
import type { Wechat } from '../wechat/wechat';
import type { WxPayClient } from '../wechat/pay/wxpay.client';
import type { WxPayNotificationHandlers, WxPayNotificationService } from '../wechat/pay/wxpay-notification.service';

/**
 * Every service of the app, by name. The platform's are here; each module adds its own in its definition file
 * (`declare module '../module' { interface Services { checkIns: CheckInService } }`), so nothing imports app.ts.
 */
export interface Services {
  /** The only way to WeChat: OA and mini-program APIs, and the inbound dispatcher modules register on. */
  wechat: Wechat;
  /** WeChat Pay APIv3; null when WeChat Pay is off (production without WXPAY_ credentials). */
  wxpay: WxPayClient | null;
  /** Where modules register their WeChat Pay notification handlers (`on('TRANSACTION.SUCCESS', …)`). */
  wxpayNotifications: WxPayNotificationService;
  /** Where every module's privacy hooks (export, erase, merge) are registered, in the order of the modules. */
  privacy: PrivacyRegistry;
  /** Flows of steps with undo across WeChat and the database (server/infra/flows.ts); modules define theirs in `services`. */
  flows: FlowRunner;
}

/**
 * What a test may plug in instead of a module's own adapter of a port (buildApp's `ports`). Each module adds the
 * ports it lets be replaced, the same way as Services.
 */
export interface PortOverrides {}

/** What the platform hands every module: infrastructure, configuration, the WeChat boundary. */
export interface ModuleContext {
  readonly infra: Infra;
  readonly config: Config;
  /** The app's logger; a module's own is `log.child({ module: name })`. */
  readonly log: FastifyBaseLogger;
  readonly overrides: Partial<PortOverrides>;
  /** The clock the shop's Shanghai day is read from (tests fix it). */
  readonly clock?: () => Date;
  /** Plain lines for the person at the terminal (the demo login in sandbox mode). */
  readonly announce?: (lines: string[]) => void;
}

/** A module's view while it is wired: the context, every service built so far (by the modules before it), its ports. */
export interface ModuleEnv<Ports = unknown> extends ModuleContext {
  /** The app's services: complete once every module is built (ports may read it lazily, at call time). */
  readonly services: Services;
  readonly ports: Ports;
}

/** A scope of routes: a module's routes are registered in their own encapsulated plugin under it. */
export type ModuleRoutes<Ports> = (scope: FastifyInstance, env: ModuleEnv<Ports>) => Promise<void>;

export interface ModuleSchedule {
  /** A job of the module's `jobs`. */
  readonly job: string;
  readonly cron: string;
  readonly tz: string;
}

/**
 * A module: one folder and this definition. app.ts lists the definitions in order; each member is optional, so a
 * module states only what it has. Nothing here runs at import: buildApp calls these while it wires the app.
 */
export interface ModuleDefinition<Ports = unknown, Own extends Partial<Services> = Partial<Services>> {
  readonly name: string;
  /** The tables the module owns: no other module's SQL names them (test/foundation/table-ownership.test.ts). */
  readonly tables?: readonly string[];
  /** The TypeORM entities of those tables (the DataSource is built from every module's). */
  readonly entities?: readonly Function[];
  /** What the module needs from others, in its own terms: adapters over their services (read lazily if needed). */
  needs?(env: ModuleEnv<undefined>): Ports;
  /** The module's services, merged into the app's Services under these names. */
  services?(env: ModuleEnv<Ports>): Own;
  /** Queued jobs: defined on the queue before it starts (never inside a constructor). */
  jobs?(env: ModuleEnv<Ports>): ReadonlyArray<JobDefinition<any>>;
  /** Cron schedules of the module's jobs (pg-boss keeps one per name across instances). */
  readonly schedules?: readonly ModuleSchedule[];
  /** Routes under /api/admin, behind the staff session. */
  adminRoutes?: ModuleRoutes<Ports>;
  /** Routes under /api/mp, behind the member session and the privacy consent. */
  memberRoutes?: ModuleRoutes<Ports>;
  /** Routes at the root (outside /api/admin and /api/mp): health, callbacks. */
  routes?: ModuleRoutes<Ports>;
  /** Handlers of what WeChat sends (events and messages on the Official Account). */
  wechatInbound?(inbound: InboundDispatcher, env: ModuleEnv<Ports>): void;
  /** Handlers of WeChat Pay notifications for what the module owns. */
  wxpayNotifications?(notifications: WxPayNotificationHandlers, env: ModuleEnv<Ports>): void;
  /** The module's part of the member's export, erasure and merge. */
  privacy?(env: ModuleEnv<Ports>): readonly PrivacyHooks[];
  /** After the queue has started (onReady): recovery and one-off scheduling. */
  onReady?(env: ModuleEnv<Ports>): Promise<void>;
  /** After the server listens. */
  onListen?(env: ModuleEnv<Ports>): Promise<void>;
}

/** A definition with its ports and services inferred: `export const checkInsModule = defineModule({ … })`. */
export function defineModule<Ports = undefined, Own extends Partial<Services> = Partial<Services>>(def: ModuleDefinition<Ports, Own>): ModuleDefinition<Ports, Own> {
  return def;
}

export type AnyModule = ModuleDefinition<any, any>;

/** The entities of the given modules, for the DataSource. */
export function moduleEntities(modules: readonly AnyModule[]): Function[] {
  return modules.flatMap((m) => [...(m.entities ?? [])]);
}
