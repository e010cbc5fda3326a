import type { Services } from './app';
import type { InboundMessage, PassiveReply } from './wechat/inbound';

const text = (content: string | null): PassiveReply | undefined => (content ? { type: 'text', content } : undefined);

/**
 * What Snowball does with what WeChat sends: follows and scans go to the parcel flow, messages to the conversation,
 * transfer notifications to the review reward.
 */
export function registerWechatHandlers(s: Services): void {
  const follow = (event: 'subscribe' | 'SCAN') => async (msg: InboundMessage, ctx: object) =>
    text(await s.conversation.onFollow(ctx, { openid: msg.openid, event, eventKey: msg.eventKey, createTime: msg.createTime }));
  // Follow events are keyed by openid + event + CreateTime in the database and answer a redelivery the same:
  // they need no mark in the shared store (the parcel-scan spike's path).
  const own = { selfDeduping: true };
  s.wechat.inbound
    .onEvent('subscribe', follow('subscribe'), own)
    .onEvent('SCAN', follow('SCAN'), own)
    .onEvent('unsubscribe', async (msg, ctx) => s.conversation.onUnfollow(ctx, { openid: msg.openid, createTime: msg.createTime }), own);
  for (const type of ['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link']) {
    s.wechat.inbound.onMessage(type, async (msg, ctx) =>
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

  // Payments and refunds reach the payments module, which hands each to the module that owns it (server/app.ts).
  s.wxpayNotifications.on(
    'MCHTRANSFER.BILL.FINISHED',
    async (ctx, r) => void (await s.reviewRewards.settleTransfer(ctx, { outBillNo: r.out_bill_no, state: r.state, failReason: r.fail_reason })),
    { name: 'review-reward', match: (r) => r.out_bill_no.startsWith('RR') },
  );
}
