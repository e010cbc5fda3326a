import { defineModule } from '../module';
import { taobaoRoutes } from '../taobao/taobao.routes';
import { createMembers, memberJobs, recoverImports, scheduleDaily, TAOBAO_IMPORT_JOB } from './member-services';
import type { MemberBindingService } from './member-binding.service';
import type { MemberPrivacyService } from './member-privacy.service';
import type { MemberProfileService } from './member-profile.service';
import type { MemberQueryService } from './member-query.service';
import type { MpMemberCard } from './members.schemas';
import { membersMpRoutes } from './members-mp.routes';
import { membersPrivacy } from './members.privacy';
import { membersRoutes } from './members.routes';
import type { MembersService } from './members.service';
import type { TiersService } from './tiers.service';
import type { TaobaoImportService } from '../taobao/taobao-import.service';

declare module '../module' {
  interface Services {
    tiers: TiersService;
    members: MembersService;
    memberBinding: MemberBindingService;
    memberPrivacy: MemberPrivacyService;
    memberQuery: MemberQueryService;
    /** The nickname and avatar the member sets in the mini-program. */
    memberProfile: MemberProfileService;
    taobaoImport: TaobaoImportService;
  }
  interface PortOverrides {
    /** The member card shown after login and at /api/mp/me. */
    memberCard: (memberId: string) => Promise<MpMemberCard>;
  }
}

/**
 * The member ledger: members and their identities, Taobao orders and their import (the taobao folder), tiers,
 * binding, the member's privacy rights and merges. Points go through the points ledger's service.
 */
export const membersModule = defineModule({
  name: 'members',
  tables: ['member', 'member_identity', 'member_audit', 'tier_definition', 'tier_change', 'sales_channel', 'sales_order', 'taobao_import', 'taobao_import_reject', 'member_avatar'],
  needs: ({ services, overrides }) => ({ memberCard: overrides.memberCard ?? ((memberId: string) => services.memberQuery.mpCard({}, memberId)) }),
  services: ({ infra, config, services }) => createMembers(infra.db, infra.kv, infra.queue, config, services.points, services.privacy),
  jobs: ({ infra, services, log }) => memberJobs(infra.queue, services, log),
  privacy: ({ infra, services }) => [membersPrivacy(infra.db, services.tiers)],
  async adminRoutes(scope, { infra, config, services }) {
    await scope.register(membersRoutes, { services });
    await scope.register(taobaoRoutes, {
      imports: services.taobaoImport,
      queue: infra.queue,
      db: infra.db,
      dataDir: config.dataDir,
      maxBytes: config.importMaxBytes,
      jobName: TAOBAO_IMPORT_JOB,
    });
  },
  memberRoutes: async (scope, { services, ports }) => scope.register(membersMpRoutes, { services, memberCard: ports.memberCard }),
  async onReady({ infra, config, services, log }) {
    await recoverImports(infra.queue, services, log);
    if (config.queueEnabled) await scheduleDaily(infra.queue);
  },
});
