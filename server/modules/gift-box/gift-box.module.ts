import { defineModule } from '../module';
import { giftBoxPrivacy } from './gift-box.privacy';
import { giftBoxAdminRoutes, giftBoxMemberRoutes } from './gift-box.routes';
import { GiftBoxService, type GiftBoxMembers, type GiftBoxPoints } from './gift-box.service';
import { ledgerError } from '../points/points.service';

declare module '../module' {
  interface Services {
    giftBox: GiftBoxService;
  }
}

export const EXPIRE_BOXES = 'gift-box.expire';

/** The nine-friend gift box (拆礼盒): a member's box, opened by friends' helps, rewarded once through the ledger. */
export const giftBoxModule = defineModule({
  name: 'gift-box',
  tables: ['gift_box_campaign', 'gift_box', 'gift_box_help', 'gift_box_member'],
  needs: ({ services }): { points: GiftBoxPoints; members: GiftBoxMembers } => ({
    points: {
      async credit(ctx, memberId, amount, idempotencyKey, reason) {
        try {
          return { transactionId: (await services.points.earn(ctx, { memberId, amount, idempotencyKey, reason })).transactionId };
        } catch (err) {
          throw ledgerError(err);
        }
      },
    },
    members: { profiles: (ctx, ids) => services.memberQuery.publicProfiles(ctx, ids) },
  }),
  services: ({ infra, ports, clock }) => ({ giftBox: new GiftBoxService(infra.db, ports.points, ports.members, clock) }),
  jobs: ({ services }) => [{ name: EXPIRE_BOXES, retryLimit: 1, handler: async () => void (await services.giftBox.expireEnded({})) }],
  schedules: [{ job: EXPIRE_BOXES, cron: '*/5 * * * *', tz: 'Asia/Shanghai' }],
  adminRoutes: async (scope, { services }) => scope.register(giftBoxAdminRoutes, { giftBox: services.giftBox }),
  memberRoutes: async (scope, { services }) => scope.register(giftBoxMemberRoutes, { giftBox: services.giftBox }),
  privacy: ({ infra }) => [giftBoxPrivacy(infra.db)],
});
