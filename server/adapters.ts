import type { FastifyBaseLogger } from 'fastify';
import type { Ctx } from './infra/db';
import { maskPhone } from './infra/logging';
import type { MemberServices } from './modules/members/member-services';
import type { MemberDirectory, OaQrCodes, OaUsers } from './modules/parcels/parcels.ports';
import type { MemberNotifier, MerchantTransfers, RewardMembers } from './modules/review-rewards/review-rewards.ports';
import type { CheckInPoints, ReminderSender } from './modules/check-ins/check-ins.service';
import type { MpLogin, MpMembers } from './modules/mp-session/mp-session.service';
import type { MemberTiers, StorePayments, StorePoints } from './modules/store/store.ports';
import type { Wechat } from './wechat/wechat';
import type { WxPayClient } from './wechat/pay/wxpay.client';

/**
 * The small adapters between modules: each module names what it needs in its own terms (its ports); these map
 * those needs onto the member ledger, the points ledger and the WeChat boundary. No logic of their own.
 */

/** The points ledger as the check-in, the store and the review reward use it. */
export function pointsPorts(m: MemberServices): CheckInPoints & StorePoints {
  return {
    credit: async (ctx, memberId, amount, idempotencyKey, reason) =>
      (await m.points.earn(ctx, { memberId, amount, idempotencyKey, reason })).balanceAfter,
    debit: async (ctx, memberId, amount, idempotencyKey, reason) =>
      (await m.points.spend(ctx, { memberId, amount, idempotencyKey, reason })).balanceAfter,
    clawback: async (ctx, memberId, amount, idempotencyKey, reason) => {
      // Takes back what is still there: points already spent are not driven below zero.
      const balance = await m.points.balance(ctx, memberId);
      const take = Math.min(balance, amount);
      if (take > 0) await m.points.spend(ctx, { memberId, amount: take, idempotencyKey, reason });
      return take;
    },
    balance: (ctx, memberId) => m.points.balance(ctx, memberId),
    expiryOf: (earnedAt) => m.points.expiryOf(earnedAt),
    history: async (ctx, memberId, cursor, limit) => {
      const rows = await m.points.history(ctx, memberId, limit + 1, cursor);
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => ({ id: r.transactionId, delta: r.amount, reason: r.reason, kind: r.kind, key: r.idempotencyKey, createdAt: new Date(r.createdAt) })),
        nextCursor: rows.length > limit ? page[page.length - 1]!.transactionId : null,
      };
    },
  };
}

export function memberTiersPort(m: MemberServices): MemberTiers {
  return {
    async tierOf(ctx, memberId) {
      const card = await m.memberQuery.card(ctx, memberId);
      const p = card.tier.perks;
      return { code: card.tier.code, discountPercent: p.discountPercent, freeShipping: p.freeShipping, pointsMultiplier: p.pointsMultiplier };
    },
  };
}

export function mpPorts(m: MemberServices, wechat: Wechat): { mpLogin: MpLogin; mpMembers: MpMembers; memberCard: (memberId: string) => Promise<Record<string, unknown>> } {
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

/** The parcel flow's view of WeChat and of the member ledger. */
export function parcelPorts(m: MemberServices, wechat: Wechat): { qr: OaQrCodes; users: OaUsers; members: MemberDirectory } {
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

export function reviewRewardPorts(
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

export function storePaymentsPort(wechat: Wechat, wxpay: WxPayClient | null): StorePayments {
  const client = () => {
    if (!wxpay) throw new Error('WeChat Pay is not configured');
    return wxpay;
  };
  return {
    async uploadShipping(p) {
      if (!wechat.mp) throw new Error('no mini-program is configured (MP_APPID / MP_SECRET)');
      await wechat.mp.uploadShippingInfo({
        order: p.transactionId ? { transactionId: p.transactionId } : { mchid: client().mchid, outTradeNo: p.outTradeNo },
        payerOpenid: p.payerOpenid,
        parcels: [{ trackingNo: p.trackingNo, expressCompany: p.company, itemDesc: p.itemDesc, receiverContact: maskPhone(p.receiverPhone) }],
      });
    },
  };
}

export function reminderSender(wechat: Wechat): ReminderSender {
  return {
    async sendCheckInReminder(mpOpenid, templateId, streak) {
      if (!wechat.mp) throw new Error('no mini-program is configured');
      await wechat.mp.sendSubscribeMessage({
        touser: mpOpenid,
        templateId,
        page: 'pages/check-in/index',
        data: { thing1: { value: '今天还没有签到哦' }, number2: { value: String(streak) } },
      });
    },
  };
}
