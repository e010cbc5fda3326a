import { maskPhone } from '../../infra/logging';
import type { Wechat } from '../../wechat/wechat';
import type { WxPayClient } from '../../wechat/pay/wxpay.client';
import type { MemberServices } from '../members/member-services';
import { defineModule } from '../module';
import { AddressService } from './addresses.service';
import { CatalogService } from './catalog.service';
import { COMPLETE_DELIVERED, FulfilmentService, REFUND_LATE_PAYMENT, UPLOAD_SHIPPING } from './fulfilment.service';
import { MallService } from './mall.service';
import { EXPIRE_UNPAID, isStoreOrderNo, isStoreRefundNo, OrderService } from './orders.service';
import { storeAdminRoutes } from './store-admin.routes';
import { storeMemberRoutes } from './store-member.routes';
import { storeEntities } from './store.entity';
import type { MemberTiers, StorePayments, StorePaymentEvents, StorePoints } from './store.ports';
import { storePrivacy } from './store.privacy';

declare module '../module' {
  interface Services {
    addresses: AddressService;
    catalog: CatalogService;
    mall: MallService;
    orders: OrderService;
    fulfilment: FulfilmentService;
    /** What the WeChat Pay notification dispatcher calls for store orders. */
    storePaymentEvents: StorePaymentEvents;
  }
  interface PortOverrides {
    storePoints: StorePoints;
    memberTiers: MemberTiers;
    storePayments: StorePayments;
  }
}

/** The mini-program store: catalog, cart, checkout and WeChat Pay, fulfilment and refunds, and the points mall. */
export const storeModule = defineModule({
  name: 'store',
  tables: [
    'product',
    'product_sku',
    'cart_item',
    'store_address',
    'store_order',
    'store_order_item',
    'mall_item',
    'mall_redemption',
    'mall_member_count',
    'member_coupon',
    'member_shipping_card',
  ],
  entities: storeEntities,
  needs: ({ services, overrides }) => ({
    points: overrides.storePoints ?? pointsPorts(services),
    tiers: overrides.memberTiers ?? memberTiersPort(services),
    payments: overrides.storePayments ?? storePaymentsPort(services.wechat, services.wxpay),
  }),
  services: ({ infra, config, log, ports }) => {
    const storeLog = log.child({ module: 'store' });
    const addresses = new AddressService(infra.db);
    const catalog = new CatalogService(infra.db, ports.tiers);
    const orders = new OrderService(infra.db, ports.points, ports.tiers, ports.payments, addresses, catalog, config.store, storeLog);
    const fulfilment = new FulfilmentService(infra.db, infra.queue, ports.points, ports.tiers, ports.payments, orders, storeLog);
    return { addresses, catalog, mall: new MallService(infra.db, ports.points, addresses), orders, fulfilment, storePaymentEvents: fulfilment };
  },
  jobs: ({ services: s }) => [
    { name: EXPIRE_UNPAID, retryLimit: 1, handler: async () => void (await s.orders.expireUnpaid({})) },
    { name: UPLOAD_SHIPPING, retryLimit: 8, retryDelaySeconds: 30, handler: async ({ orderId }: { orderId: string }) => s.fulfilment.uploadShipping({}, orderId) },
    { name: COMPLETE_DELIVERED, retryLimit: 1, handler: async () => void (await s.fulfilment.completeDelivered({})) },
    { name: REFUND_LATE_PAYMENT, retryLimit: 8, retryDelaySeconds: 30, handler: async ({ orderNo }: { orderNo: string }) => s.fulfilment.startRefund({}, orderNo) },
  ],
  schedules: [
    { job: EXPIRE_UNPAID, cron: '* * * * *', tz: 'Asia/Shanghai' },
    { job: COMPLETE_DELIVERED, cron: '30 3 * * *', tz: 'Asia/Shanghai' },
  ],
  // Store orders' out_trade_no is their order number; refunds are R + that.
  wxpayNotifications(notifications, { services: s }) {
    notifications.on(
      'TRANSACTION.SUCCESS',
      (ctx, r) =>
        s.storePaymentEvents.onPaymentSucceeded(ctx, {
          outTradeNo: r.out_trade_no,
          transactionId: r.transaction_id ?? '',
          amountFen: r.amount?.total ?? 0,
          payerOpenid: r.payer?.openid ?? '',
        }),
      { name: 'store', match: (r) => isStoreOrderNo(r.out_trade_no) },
    );
    notifications.on(
      ['REFUND.SUCCESS', 'REFUND.CLOSED', 'REFUND.ABNORMAL'],
      (ctx, r) => s.storePaymentEvents.onRefundFinished(ctx, { outRefundNo: r.out_refund_no, status: r.refund_status as 'SUCCESS' | 'CLOSED' | 'ABNORMAL' }),
      { name: 'store-refund', match: (r) => isStoreRefundNo(r.out_refund_no) },
    );
  },
  adminRoutes: async (scope, { services }) => scope.register(storeAdminRoutes, services),
  memberRoutes: async (scope, { services, ports }) => scope.register(storeMemberRoutes, { ...services, points: ports.points }),
  privacy: ({ infra, services }) => [storePrivacy(infra.db, services.wxpayNotifications)],
});

/** The points ledger as the check-in, the store and the review reward use it. */
function pointsPorts(m: MemberServices): StorePoints {
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

function memberTiersPort(m: MemberServices): MemberTiers {
  return {
    async tierOf(ctx, memberId) {
      const card = await m.memberQuery.card(ctx, memberId);
      const p = card.tier.perks;
      return { code: card.tier.code, discountPercent: p.discountPercent, freeShipping: p.freeShipping, pointsMultiplier: p.pointsMultiplier };
    },
  };
}

function storePaymentsPort(wechat: Wechat, wxpay: WxPayClient | null): StorePayments {
  const appid = wechat.credentials.mp?.appid ?? wechat.credentials.appid;
  const client = () => {
    if (!wxpay) throw new Error('WeChat Pay is not configured');
    return wxpay;
  };
  return {
    prepay: async (p) => ({
      prepayId: (
        await client().jsapiPrepay({ appid, description: p.description, outTradeNo: p.outTradeNo, amountFen: p.amountFen, payerOpenid: p.payerOpenid, timeExpire: p.expiresAt })
      ).prepayId,
    }),
    paymentParams: (prepayId) => client().requestPaymentParams(appid, prepayId),
    refund: async (p) =>
      void (await client().refund({ outTradeNo: p.outTradeNo, outRefundNo: p.outRefundNo, refundFen: p.refundFen, totalFen: p.totalFen, reason: p.reason })),
    close: (outTradeNo) => client().close(outTradeNo),
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
