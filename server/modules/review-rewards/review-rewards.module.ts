import type { FastifyBaseLogger } from 'fastify';
import type { Ctx } from '../../infra/db';
import { currentMember } from '../../infra/auth';
import type { Wechat } from '../../wechat/wechat';
import type { WxPayClient } from '../../wechat/pay/wxpay.client';
import type { MemberServices } from '../members/member-services';
import { defineModule } from '../module';
import { ReviewCampaign, ReviewClaim } from './review-rewards.entity';
import type { MemberNotifier, MerchantTransfers, RewardMembers } from './review-rewards.ports';
import { reviewRewardsPrivacy } from './review-rewards.privacy';
import { reviewRewardsAdminRoutes, reviewRewardsMemberRoutes } from './review-rewards.routes';
import { NOTIFY_MEMBER, ReviewRewardsService } from './review-rewards.service';
import { LocalFileStore } from './screenshot-store';

declare module '../module' {
  interface Services {
    reviewRewards: ReviewRewardsService;
  }
}

/** 评价有礼: a reward (cash by merchant transfer, or points) for an honest review's screenshot, approved by staff. */
export const reviewRewardsModule = defineModule({
  name: 'review-rewards',
  tables: ['review_campaign', 'review_claim'],
  entities: [ReviewCampaign, ReviewClaim],
  needs: ({ services, log }) => reviewRewardPorts(services, services.wechat, services.wxpay, log.child({ module: 'review-rewards' })),
  services: ({ infra, config, ports, clock }) => ({
    reviewRewards: new ReviewRewardsService(infra.db, infra.queue, new LocalFileStore(`${config.uploadsDir}/review-screenshots`), ports.members, ports.transfers, clock),
  }),
  jobs: ({ ports }) => [
    { name: NOTIFY_MEMBER, retryLimit: 3, handler: async ({ memberId, text }: { memberId: string; text: string }) => ports.notifier.notify({}, memberId, text) },
  ],
  wxpayNotifications(notifications, { services }) {
    notifications.on(
      'MCHTRANSFER.BILL.FINISHED',
      async (ctx, r) => void (await services.reviewRewards.settleTransfer(ctx, { outBillNo: r.out_bill_no, state: r.state, failReason: r.fail_reason })),
      { name: 'review-reward', match: (r) => r.out_bill_no.startsWith('RR') },
    );
  },
  adminRoutes: async (scope, { services }) => scope.register(reviewRewardsAdminRoutes, { rewards: services.reviewRewards }),
  memberRoutes: async (scope, { services }) =>
    scope.register(reviewRewardsMemberRoutes, {
      rewards: services.reviewRewards,
      memberOf: (req) => currentMember(req).memberId,
      mchId: services.wxpay?.mchid ?? '',
      mpAppId: services.wechat.credentials.mp?.appid ?? '',
    }),
  privacy: ({ infra, services }) => [reviewRewardsPrivacy(infra.db, services.reviewRewards, services.wxpayNotifications)],
});

function reviewRewardPorts(
  m: MemberServices,
  wechat: Wechat,
  wxpay: WxPayClient | null,
  log: FastifyBaseLogger,
): { members: RewardMembers; transfers: MerchantTransfers; notifier: MemberNotifier } {
  const appid = wechat.credentials.mp?.appid ?? wechat.credentials.appid;
  const payOff = () => new Error('WeChat Pay is not configured');
  return {
    members: {
      orderOfMember: (ctx, memberId, orderNo) => m.memberQuery.boundOrder(ctx, memberId, orderNo),
      mpOpenidOf: (ctx, memberId) => m.memberQuery.identityOf(ctx, memberId, 'mp_openid'),
      awardPoints: async (ctx, memberId, amount, idempotencyKey, reason) => void (await m.points.earn(ctx, { memberId, amount, idempotencyKey, reason })),
    },
    transfers: {
      async createTransfer(req) {
        if (!wxpay) throw payOff();
        const bill = await wxpay.createTransferBill({ appid, outBillNo: req.outBillNo, openid: req.openid, amountFen: req.amountFen, remark: req.remark });
        return { transferBillNo: bill.transfer_bill_no ?? '', state: bill.state, packageInfo: bill.package_info };
      },
      async queryTransfer(outBillNo) {
        if (!wxpay) throw payOff();
        try {
          const bill = await wxpay.queryTransferBill(outBillNo);
          return { state: bill.state, failReason: bill.fail_reason };
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode === 404) return null;
          throw err;
        }
      },
    },
    notifier: {
      // A customer-service message on the Official Account: the member hears the outcome where they followed.
      async notify(ctx: Ctx, memberId, text) {
        const openid = await m.memberQuery.identityOf(ctx, memberId, 'oa_openid');
        if (!openid) return;
        try {
          await wechat.oa.sendCustomText(openid, text);
        } catch (err) {
          log.warn({ err, memberId }, 'member notification not delivered');
        }
      },
    },
  };
}
