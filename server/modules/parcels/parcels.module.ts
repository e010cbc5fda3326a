import type { Wechat } from '../../wechat/wechat';
import type { InboundMessage, PassiveReply } from '../../wechat/inbound';
import type { MemberServices } from '../members/member-services';
import { defineModule } from '../module';
import { ConversationService } from './conversation.service';
import { FollowEvent, KeywordReply, OaFollower, OaMessage, ParcelBatch } from './parcels.entity';
import type { MemberDirectory, OaQrCodes, OaUsers } from './parcels.ports';
import { parcelsPrivacy } from './parcels.privacy';
import { parcelsRoutes } from './parcels.routes';
import { FETCH_FOLLOWER_INFO, ParcelsService } from './parcels.service';

declare module '../module' {
  interface Services {
    parcels: ParcelsService;
    conversation: ConversationService;
  }
}

const text = (content: string | null): PassiveReply | undefined => (content ? { type: 'text', content } : undefined);

/** Parcel insert cards: a batch's QR code, the follow it brings, and the conversation on the Official Account. */
export const parcelsModule = defineModule({
  name: 'parcels',
  tables: ['parcel_batch', 'oa_follower', 'follow_event', 'oa_message', 'keyword_reply'],
  entities: [ParcelBatch, OaFollower, FollowEvent, OaMessage, KeywordReply],
  needs: ({ services }) => parcelPorts(services, services.wechat),
  services: ({ infra, config, ports, services }) => {
    const parcels = new ParcelsService(infra.db, infra.queue, ports.qr, ports.users, ports.members, {
      showQrUrl: (ticket) => `${config.wechat.sandbox ? `${config.wechat.apiBase}/cgi-bin` : 'https://mp.weixin.qq.com/cgi-bin'}/showqrcode?ticket=${encodeURIComponent(ticket)}`,
    });
    const conversation = new ConversationService(infra.db, infra.kv, parcels, ports.members, ports.users, {
      brand: config.brandName,
      mpAppid: services.wechat.credentials.mp?.appid,
      bindPagePath: 'packages/bind/index',
      fallbackUrl: config.publicUrl,
    });
    return { parcels, conversation };
  },
  jobs: ({ services }) => [{ name: FETCH_FOLLOWER_INFO, retryLimit: 8, handler: async () => void (await services.parcels.fetchFollowersInfo({})) }],
  schedules: [{ job: FETCH_FOLLOWER_INFO, cron: '* * * * *', tz: 'Asia/Shanghai' }],
  adminRoutes: async (scope, { config, services }) =>
    scope.register(parcelsRoutes, {
      parcels: services.parcels,
      conversation: services.conversation,
      countClaims: (ctx, memberIds) => services.reviewRewards.countClaimsByMembers(ctx, memberIds),
      brand: config.brandName,
    }),
  // Follows and scans go to the parcel flow, messages to the conversation.
  wechatInbound(inbound, { services: s }) {
    const follow = (event: 'subscribe' | 'SCAN') => async (msg: InboundMessage, ctx: object) =>
      text(await s.conversation.onFollow(ctx, { openid: msg.openid, event, eventKey: msg.eventKey, createTime: msg.createTime }));
    // Follow events are keyed by openid + event + CreateTime in the database and answer a redelivery the same:
    // they need no mark in the shared store (the parcel-scan spike's path).
    const own = { selfDeduping: true };
    inbound
      .onEvent('subscribe', follow('subscribe'), own)
      .onEvent('SCAN', follow('SCAN'), own)
      .onEvent('unsubscribe', async (msg, ctx) => s.conversation.onUnfollow(ctx, { openid: msg.openid, createTime: msg.createTime }), own);
    for (const type of ['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link']) {
      inbound.onMessage(type, async (msg, ctx) =>
        text(
          await s.conversation.onMessage(ctx, {
            openid: msg.openid,
            msgId: msg.msgId ?? msg.dedupeKey,
            msgType: msg.type,
            content: msg.content,
            createTime: msg.createTime,
          }),
        ),
      );
    }
  },
  privacy: ({ infra, services }) => [parcelsPrivacy(infra.db, (ctx, id) => services.memberQuery.identitiesOf(ctx, id, 'oa_openid'))],
});

/** The parcel flow's view of WeChat and of the member ledger. */
function parcelPorts(m: MemberServices, wechat: Wechat): { qr: OaQrCodes; users: OaUsers; members: MemberDirectory } {
  return {
    qr: {
      createQrCode: async (scene, expireSeconds) =>
        wechat.oa.createQrCode(expireSeconds ? { scene, expireSeconds } : { scene, permanent: true }),
    },
    users: {
      async getUsersInfo(openids) {
        const infos = await wechat.oa.getFollowersInfo(openids);
        return new Map([...infos].map(([openid, f]) => [openid, f && { subscribed: f.subscribe === 1, unionid: f.unionid }]));
      },
      sendText: (openid, text) => wechat.oa.sendCustomText(openid, text),
    },
    members: {
      memberForOaOpenid: async (ctx, openid, unionid) => (await m.members.findOrCreateByOpenid(ctx, { app: 'oa', openid, unionid })).memberId,
      membersForOaFollowers: (ctx, followers) => m.members.findOrCreateOaFollowers(ctx, followers),
      async bindTaobaoOrder(ctx, memberId, orderNo, phoneLast4) {
        try {
          const r = await m.memberBinding.bindTaobaoOrder(ctx, memberId, orderNo, phoneLast4);
          return { ok: true, buyerNick: r.buyerNick ?? '淘宝买家', ordersLinked: r.ordersBound, pointsAwarded: r.pointsAwarded };
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'order_not_found' || code === 'phone_mismatch' || code === 'already_bound_to_other' || code === 'too_many_attempts') {
            return { ok: false, code };
          }
          throw err;
        }
      },
      boundMemberIds: (ctx, memberIds) => m.memberQuery.boundMemberIds(ctx, memberIds),
    },
  };
}
