import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config';
import type { Db } from '../../infra/db';
import type { KvStore } from '../../infra/kv';
import type { JobDefinition, JobQueue } from '../../infra/queue';
import { PrivacyRegistry } from '../../infra/privacy';
import { PointsService, type LedgerMembers } from '../points/points.service';
import { pointsPrivacy } from '../points/points.privacy';
import { nextShanghaiRun, parseExpiryRule } from '../points/points-expiry';
import { shanghaiDay } from '../../infra/time';
import { TaobaoImportService } from '../taobao/taobao-import.service';
import { MemberBindingService } from './member-binding.service';
import { MemberPrivacyService } from './member-privacy.service';
import { MemberProfileService } from './member-profile.service';
import { MemberQueryService } from './member-query.service';
import { MEMBER_REFRESH_JOB, MembersService } from './members.service';
import { OrderPointsService } from './order-points.service';
import { membersPrivacy } from './members.privacy';
import { TIER_CHANGED_JOB, TiersService, type TierChangeEvent } from './tiers.service';

/** The member ledger's services, wired once for the app and for the CLIs. */
export interface MemberServices {
  points: PointsService;
  tiers: TiersService;
  members: MembersService;
  memberBinding: MemberBindingService;
  memberPrivacy: MemberPrivacyService;
  memberQuery: MemberQueryService;
  /** The nickname and avatar the member sets in the mini-program. */
  memberProfile: MemberProfileService;
  taobaoImport: TaobaoImportService;
  /** Where every module registers its privacy hooks (export, erase, merge); the ledger's own come first. */
  privacy: PrivacyRegistry;
}

export const TAOBAO_IMPORT_JOB = 'taobao.import';
export const DAILY_LEDGER_JOB = 'members.daily';

/** The member ledger's services over a points ledger and a privacy registry the caller gives (the app's, or the CLIs'). */
export function createMembers(db: Db, kv: KvStore, queue: JobQueue, config: Config, points: PointsService, privacy: PrivacyRegistry): Omit<MemberServices, 'points' | 'privacy'> {
  const tiers = new TiersService(db, queue);
  const orderPoints = new OrderPointsService(db, points, config.pointsPerYuan);
  const members = new MembersService(db, queue, tiers, orderPoints, privacy, points);
  return {
    tiers,
    members,
    memberBinding: new MemberBindingService(db, kv, members, points, config.memberDataKey),
    memberPrivacy: new MemberPrivacyService(db, members, points, privacy),
    memberQuery: new MemberQueryService(db, members, points, tiers),
    memberProfile: new MemberProfileService(db),
    taobaoImport: new TaobaoImportService(db, members, {
      phoneKey: config.memberDataKey,
      embedded: !config.databaseUrl,
      keepFiles: config.importKeepFiles,
    }),
  };
}

/** The ledger and the points ledger wired together, for the CLIs and benchmarks (the app wires them as modules). */
export function createMemberServices(db: Db, kv: KvStore, queue: JobQueue, config: Config): MemberServices {
  // The points ledger asks the member ledger at call time: the two are wired in either order.
  const ledger: LedgerMembers = { statusOf: (ctx, id) => m.members.statusOf(ctx, id), mergedInto: (ctx, id) => m.members.mergedInto(ctx, id) };
  const points = new PointsService(db, ledger, parseExpiryRule(config.pointsExpiry));
  const privacy = new PrivacyRegistry();
  const m = createMembers(db, kv, queue, config, points, privacy);
  privacy.register(pointsPrivacy(points), membersPrivacy(db, m.tiers));
  return { privacy, points, ...m };
}

/** The ledger's queued jobs: uploaded imports, refreshes after imports, the daily expiry and tier pass. */
export function memberJobs(queue: JobQueue, s: Pick<MemberServices, 'taobaoImport' | 'members' | 'points' | 'tiers'>, log: FastifyBaseLogger): JobDefinition<any>[] {
  const importJob: JobDefinition<{ importId: string }> = {
    name: TAOBAO_IMPORT_JOB,
    retryLimit: 2,
    expireInSeconds: 3 * 3600,
    handler: async ({ importId }) => {
      try {
        const summary = await s.taobaoImport.run({}, importId);
        log.info({ importId, summary }, 'taobao import finished');
      } catch (err) {
        // A bad file is final; an import another process is running is that process's.
        const code = (err as { code?: string }).code;
        if (code === 'import_file_invalid' || code === 'import_running') return;
        log.error({ err, importId }, 'taobao import failed; the queue retries it');
        throw err;
      }
    },
  };
  const refresh: JobDefinition<{ memberIds: string[]; reason: string }> = {
    name: MEMBER_REFRESH_JOB,
    handler: async ({ memberIds, reason }) => s.members.refresh({}, memberIds, reason),
  };
  const tierChanged: JobDefinition<TierChangeEvent> = {
    name: TIER_CHANGED_JOB,
    // The messaging module subscribes here; until it exists the event is logged (and kept in tier_change).
    handler: async (e) => log.info({ memberId: e.memberId, from: e.fromTier, to: e.toTier }, 'member tier changed'),
  };
  const daily: JobDefinition<{ day: string }> = {
    name: DAILY_LEDGER_JOB,
    retryLimit: 3,
    expireInSeconds: 3600,
    handler: async () => {
      const expired = await s.points.expireDue({});
      const changes = await s.tiers.recompute({}, 'all', 'daily review');
      log.info({ expiredLots: expired, tierChanges: changes.length }, 'daily points expiry and tier review done');
      await scheduleDaily(queue);
    },
  };
  return [importJob, refresh, tierChanged, daily];
}

/** On start: imports whose worker is gone are queued again (uploads) or failed (see recoverInterrupted). */
export async function recoverImports(queue: JobQueue, s: Pick<MemberServices, 'taobaoImport'>, log: FastifyBaseLogger): Promise<void> {
  const requeued = await s.taobaoImport.recoverInterrupted({});
  for (const importId of requeued) await queue.send({}, TAOBAO_IMPORT_JOB, { importId });
  if (requeued.length > 0) log.warn({ imports: requeued }, 'imports interrupted by a stop were queued again');
}

/** Queues the next daily pass (00:05 Asia/Shanghai); one per day however many instances ask. */
export async function scheduleDaily(queue: JobQueue): Promise<void> {
  const at = nextShanghaiRun();
  await queue.send({}, DAILY_LEDGER_JOB, { day: shanghaiDay(at) }, { startAfter: at, singletonKey: `daily:${shanghaiDay(at)}` });
}
