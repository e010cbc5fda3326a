import type { MpMemberCard } from '../members/members.schemas';
import type { Wechat } from '../../wechat/wechat';
import type { MemberServices } from '../members/member-services';
import { defineModule } from '../module';
import { MpPrivacyConsent, MpSession } from './mp-session.entity';
import { mpSessionPrivacy } from './mp-session.privacy';
import { mpSessionRoutes } from './mp-session.routes';
import { MpSessionService, type MpLogin, type MpMembers } from './mp-session.service';

declare module '../module' {
  interface Services {
    mpSessions: MpSessionService;
  }
  interface PortOverrides {
    mpLogin: MpLogin;
    mpMembers: MpMembers;
  }
}

/** The mini-program's login (jscode2session) and member sessions, and the privacy notice the member accepted. */
export const mpSessionModule = defineModule({
  name: 'mp-session',
  tables: ['mp_session', 'mp_privacy_consent'],
  entities: [MpSession, MpPrivacyConsent],
  needs: ({ services, overrides }) => {
    const mp = mpPorts(services, services.wechat);
    return { mpLogin: overrides.mpLogin ?? mp.mpLogin, mpMembers: overrides.mpMembers ?? mp.mpMembers, memberCard: overrides.memberCard ?? mp.memberCard };
  },
  services: ({ infra, config, ports }) => ({ mpSessions: new MpSessionService(infra.db, ports.mpLogin, ports.mpMembers, config.mpSessionDays) }),
  memberRoutes: async (scope, { services, ports }) => scope.register(mpSessionRoutes, { sessions: services.mpSessions, memberCard: ports.memberCard }),
  privacy: ({ infra }) => [mpSessionPrivacy(infra.db)],
});

function mpPorts(m: MemberServices, wechat: Wechat): { mpLogin: MpLogin; mpMembers: MpMembers; memberCard: (memberId: string) => Promise<MpMemberCard> } {
  return {
    mpLogin: {
      code2Session: async (code) => {
        if (!wechat.mp) throw new Error('no mini-program is configured (MP_APPID / MP_SECRET)');
        return wechat.mp.code2session(code);
      },
    },
    mpMembers: {
      memberForMpOpenid: async (ctx, openid, unionid) => (await m.members.findOrCreateByOpenid(ctx, { app: 'mp', openid, unionid })).memberId,
    },
    memberCard: (memberId) => m.memberQuery.mpCard({}, memberId),
  };
}
