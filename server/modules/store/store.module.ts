import { maskPhone } from '../../infra/logging';
import type { Wechat } from '../../wechat/wechat';
import type { WxPayClient } from '../../wechat/pay/wxpay.client';
import type { MemberServices } from '../members/member-services';
import { defineModule } from '../module';
import { AddressService } from './addresses.service';
import { CatalogService } from './catalog.service';
import { AfterSalesService } from './after-sales.service';
import { COMPLETE_DELIVERED, FulfilmentService, UPLOAD_SHIPPING } from './fulfilment.service';
import { MallService } from './mall.service';
import { EXPIRE_UNPAID, OrderService } from './orders.service';
import { registerStorePayments } from './store-payments';
import { storeAdminRoutes } from './store-admin.routes';
import { storeMemberRoutes } from './store-member.routes';
import { storeEntities } from './store.entity';
import type { MemberTiers, StorePayments, StorePoints } from './store.ports';
import { storePrivacy } from './store.privacy';

declare module '../module' {
  interface Services {
    addresses: AddressService;
    catalog: CatalogService;
    mall: MallService;
    orders: OrderService;
    fulfilment: FulfilmentService;
    /** 申请退款: the member's requests, the merchant's answers, and the refund flow. */
    afterSales: AfterSalesService;
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
    'store_after_sale',
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
    shipping: overrides.storePayments ?? storeShippingPort(services.wechat, services.wxpay),
  }),
  services: ({ infra, config, log, ports, services: { payments, flows } }) => {
    const storeLog = log.child({ module: 'store' });
    const addresses = new AddressService(infra.db);
    const catalog = new CatalogService(infra.db, ports.tiers);
    const orders = new OrderService(infra.db, ports.points, ports.tiers, payments, addresses, catalog, config.store, storeLog, flows);
    const fulfilment = new FulfilmentService(infra.db, infra.queue, ports.points, ports.tiers, ports.shipping, payments, orders, storeLog);
    const afterSales = new AfterSalesService(infra.db, payments, flows, ports.points, storeLog);
    // The store's payment kind and its flows (cancel, an accepted after-sale's refund), before anything is paid.
    registerStorePayments({ payments, flows, orders, fulfilment, afterSales });
    return { addresses, catalog, mall: new MallService(infra.db, ports.points, addresses), orders, fulfilment, afterSales };
  },
  jobs: ({ services: s }) => [
    { name: EXPIRE_UNPAID, retryLimit: 1, handler: async () => void (await s.orders.expireUnpaid({})) },
    { name: UPLOAD_SHIPPING, retryLimit: 8, retryDelaySeconds: 30, handler: async ({ orderId }: { orderId: string }) => s.fulfilment.uploadShipping({}, orderId) },
    { name: COMPLETE_DELIVERED, retryLimit: 1, handler: async () => void (await s.fulfilment.completeDelivered({})) },
  ],
  schedules: [
    { job: EXPIRE_UNPAID, cron: '* * * * *', tz: 'Asia/Shanghai' },
    { job: COMPLETE_DELIVERED, cron: '30 3 * * *', tz: 'Asia/Shanghai' },
  ],
  adminRoutes: async (scope, { services }) => scope.register(storeAdminRoutes, services),
  memberRoutes: async (scope, { services, ports }) => scope.register(storeMemberRoutes, { ...services, points: ports.points }),
  privacy: ({ infra }) => [storePrivacy(infra.db)],
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

/** WeChat's shipping upload (发货信息录入) for paid store orders; payments themselves go through the payments module. */
function storeShippingPort(wechat: Wechat, wxpay: WxPayClient | null): StorePayments {
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
