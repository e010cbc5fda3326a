import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentMember, perMemberLimit } from '../../infra/auth';
import { invalid } from '../../infra/errors';
import { addressView, type AddressService } from './addresses.service';
import type { CatalogService } from './catalog.service';
import type { MallService } from './mall.service';
import type { OrderService } from './orders.service';
import type { StorePoints } from './store.ports';
import type { AfterSalesService } from './after-sales.service';
import { afterSaleLines, afterSaleView } from './after-sales.schemas';

export interface StoreMemberRoutesOptions {
  points: StorePoints;
  mall: MallService;
  catalog: CatalogService;
  orders: OrderService;
  addresses: AddressService;
  afterSales: AfterSalesService;
}

const uuid = z.uuid();
const sec = [{ bearer: [] }];
const idParams = z.object({ id: z.string().min(1).max(64) });

/** Same key + same body → the first result; without a key every write is new. */
function idempotencyKey(req: FastifyRequest): string {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return randomUUID();
  if (typeof key !== 'string' || !/^[A-Za-z0-9_:.-]{8,64}$/.test(key)) throw invalid('invalid_idempotency_key', 'Idempotency-Key must be 8–64 letters, digits or _:.-');
  return key;
}

export const addressBody = z.object({
  name: z.string().trim().min(1).max(30),
  phone: z.string().regex(/^1[3-9]\d{9}$/, 'an 11-digit mainland mobile number'),
  province: z.string().trim().min(1).max(30),
  city: z.string().trim().min(1).max(30),
  district: z.string().trim().min(1).max(30),
  detail: z.string().trim().min(1).max(120),
  isDefault: z.boolean().optional(),
});

export const address = z.object({
  id: z.string(),
  name: z.string(),
  phone: z.string(),
  province: z.string(),
  city: z.string(),
  district: z.string(),
  detail: z.string(),
  isDefault: z.boolean(),
});

export const order = z.object({
  id: z.string(),
  orderNo: z.string(),
  status: z.enum(['pending_payment', 'paid', 'shipped', 'completed', 'cancelled', 'refunded']),
  items: z.array(z.object({ skuId: z.string(), title: z.string(), skuName: z.string(), quantity: z.number(), unitPriceFen: z.number() })),
  goodsFen: z.number(),
  discountFen: z.number(),
  pointsUsed: z.number(),
  pointsDiscountFen: z.number(),
  shippingFen: z.number(),
  payableFen: z.number(),
  address: address.nullable(),
  createdAt: z.string(),
  paidAt: z.string().nullable(),
  expiresAt: z.string(),
  shipping: z.object({ company: z.string(), trackingNo: z.string() }).nullable(),
});

const orderBody = z.object({
  items: z.array(z.object({ skuId: uuid, quantity: z.number().int().min(1).max(99) })).min(1).max(50),
  addressId: uuid.optional(),
  pointsToUse: z.number().int().min(0).max(10_000_000).default(0),
  couponId: uuid.optional(),
});

export const quote = z.object({
  items: z.array(
    z.object({ skuId: z.string(), productId: z.string(), title: z.string(), skuName: z.string(), quantity: z.number(), listPriceFen: z.number(), unitPriceFen: z.number() }),
  ),
  goodsFen: z.number(),
  memberGoodsFen: z.number(),
  memberDiscountFen: z.number(),
  couponId: z.string().nullable(),
  couponFen: z.number(),
  discountFen: z.number(),
  shippingFen: z.number(),
  freeShipping: z.enum(['tier', 'shipping_card', 'threshold']).nullable(),
  freeShippingOverFen: z.number(),
  pointsBalance: z.number(),
  maxPoints: z.number(),
  pointsToUse: z.number(),
  pointsDiscountFen: z.number(),
  payableFen: z.number(),
});

const payment = z.object({ timeStamp: z.string(), nonceStr: z.string(), package: z.string(), signType: z.literal('RSA'), paySign: z.string() });

const cart = z.object({
  items: z.array(
    z.object({
      skuId: z.string(),
      productId: z.string(),
      title: z.string(),
      skuName: z.string(),
      imageUrl: z.string().nullable(),
      priceFen: z.number(),
      memberPriceFen: z.number(),
      quantity: z.number(),
      stock: z.number(),
    }),
  ),
});

/** Points, the points mall, the store and the address book; mounted inside /api/mp behind the member session. */
export const storeMemberRoutes: FastifyPluginAsyncZod<StoreMemberRoutesOptions> = async (app, { points, mall, catalog, orders, addresses, afterSales }) => {
  const ctx = (req: FastifyRequest) => ({ requestId: req.id });

  app.get(
    '/points/history',
    {
      schema: {
        tags: ['points'],
        summary: 'The points ledger, newest first',
        security: sec,
        querystring: z.object({ cursor: z.string().max(200).optional() }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                id: z.string(),
                delta: z.number(),
                reason: z.string(),
                code: z.string().describe('stable reason code: store_purchase, taobao_purchase, check_in, mall_redemption, …'),
                label: z.string().describe('the reason in Chinese, as the member reads it'),
                orderNo: z.string().nullable().describe('the readable number of the order the entry belongs to'),
                createdAt: z.string(),
              }),
            ),
            nextCursor: z.string().nullable(),
          }),
        },
      },
    },
    async (req) => orders.labelPointsHistory(ctx(req), await points.history(ctx(req), currentMember(req).memberId, req.query.cursor, 20)),
  );

  app.get(
    '/mall/items',
    {
      schema: {
        tags: ['points-mall'],
        security: sec,
        response: {
          200: z.array(
            z.object({
              id: z.string(),
              kind: z.enum(['coupon', 'shipping_card', 'gift']),
              name: z.string(),
              description: z.string(),
              imageUrl: z.string().nullable(),
              pointsCost: z.number(),
              stock: z.number(),
              perMemberLimit: z.number().nullable(),
              redeemedByMe: z.number(),
              needsAddress: z.boolean(),
            }),
          ),
        },
      },
    },
    async (req) => mall.itemsForMember(ctx(req), currentMember(req).memberId),
  );

  app.post(
    '/mall/redemptions',
    {
      preValidation: perMemberLimit(app, 'redemption', 20),
      schema: {
        tags: ['points-mall'],
        summary: 'Redeem a reward with points (stock and the per-member limit are checked in the same transaction)',
        security: sec,
        body: z.object({ itemId: uuid, addressId: uuid.optional() }),
        response: { 200: z.object({ id: z.string(), itemId: z.string(), pointsSpent: z.number(), pointsBalance: z.number(), status: z.string() }) },
      },
    },
    async (req) => mall.redeem(ctx(req), currentMember(req).memberId, req.body.itemId, req.body.addressId, idempotencyKey(req)),
  );

  app.get(
    '/mall/redemptions',
    {
      schema: {
        tags: ['points-mall'],
        summary: "The member's redemptions, newest first",
        security: sec,
        response: {
          200: z.array(
            z.object({
              id: z.string(),
              itemId: z.string(),
              name: z.string(),
              kind: z.string(),
              pointsSpent: z.number(),
              status: z.string(),
              shipping: z.object({ company: z.string(), trackingNo: z.string() }).nullable(),
              createdAt: z.string(),
            }),
          ),
        },
      },
    },
    async (req) => mall.redemptionsOf(ctx(req), currentMember(req).memberId),
  );

  app.get(
    '/wallet',
    {
      schema: {
        tags: ['points-mall'],
        summary: "The member's unused coupons and free-shipping card (包邮卡), for checkout",
        security: sec,
        response: {
          200: z.object({
            coupons: z.array(z.object({ id: z.string(), name: z.string(), valueFen: z.number(), minSpendFen: z.number(), expiresAt: z.string() })),
            shippingCardUntil: z.string().nullable(),
          }),
        },
      },
    },
    async (req) => mall.walletOf(ctx(req), currentMember(req).memberId),
  );

  app.get(
    '/products',
    {
      schema: {
        tags: ['store'],
        security: sec,
        response: { 200: z.array(z.object({ id: z.string(), title: z.string(), imageUrl: z.string().nullable(), priceFen: z.number(), memberPriceFen: z.number(), stock: z.number() })) },
      },
    },
    async (req) => catalog.listForMember(ctx(req), currentMember(req).memberId),
  );

  app.get(
    '/products/:id',
    {
      schema: {
        tags: ['store'],
        security: sec,
        params: z.object({ id: uuid }),
        response: {
          200: z.object({
            id: z.string(),
            title: z.string(),
            description: z.string(),
            images: z.array(z.string()),
            skus: z.array(z.object({ id: z.string(), name: z.string(), priceFen: z.number(), memberPriceFen: z.number(), stock: z.number() })),
          }),
        },
      },
    },
    async (req) => catalog.detailForMember(ctx(req), currentMember(req).memberId, req.params.id),
  );

  app.get('/cart', { schema: { tags: ['store'], security: sec, response: { 200: cart } } }, async (req) => catalog.cart(ctx(req), currentMember(req).memberId));

  app.put(
    '/cart/items',
    {
      schema: { tags: ['store'], summary: 'Set the quantity of a cart line (0 removes it)', security: sec, body: z.object({ skuId: uuid, quantity: z.number().int().min(0).max(99) }), response: { 200: cart } },
    },
    async (req) => catalog.setCartItem(ctx(req), currentMember(req).memberId, req.body.skuId, req.body.quantity),
  );

  app.post(
    '/checkout/quote',
    {
      preValidation: perMemberLimit(app, 'checkout-quote', 120),
      schema: {
        tags: ['store'],
        summary: 'What the order of this body would charge (shipping, member price, tier perk, 包邮卡, coupon, points), priced as checkout prices it; nothing is reserved',
        security: sec,
        body: orderBody,
        response: { 200: quote },
      },
    },
    async (req) => orders.quote(ctx(req), currentMember(req).memberId, req.body),
  );

  app.post(
    '/orders',
    {
      preValidation: perMemberLimit(app, 'checkout', 10),
      schema: {
        tags: ['store'],
        summary: 'Checkout: stock, coupon and points in one transaction, then the JSAPI prepay',
        security: sec,
        body: orderBody,
        response: { 200: z.object({ order, payment }) },
      },
    },
    async (req) => orders.checkout(ctx(req), currentMember(req), req.body, idempotencyKey(req)),
  );

  app.get(
    '/orders',
    {
      schema: {
        tags: ['store'],
        security: sec,
        querystring: z.object({ status: z.enum(['pending_payment', 'paid', 'shipped', 'completed', 'cancelled', 'refunded']).optional() }),
        response: { 200: z.array(order) },
      },
    },
    async (req) => orders.list(ctx(req), currentMember(req).memberId, req.query.status),
  );

  app.get('/orders/:id', { schema: { tags: ['store'], security: sec, params: idParams, response: { 200: order } } }, async (req) =>
    orders.detail(ctx(req), currentMember(req).memberId, req.params.id),
  );

  app.post(
    '/orders/:id/pay',
    { preValidation: perMemberLimit(app, 'pay', 20), schema: { tags: ['store'], security: sec, params: idParams, response: { 200: z.object({ payment }) } } },
    async (req) => orders.pay(ctx(req), currentMember(req).memberId, req.params.id),
  );

  app.post('/orders/:id/cancel', { schema: { tags: ['store'], security: sec, params: idParams, response: { 200: order } } }, async (req) =>
    orders.cancel(ctx(req), currentMember(req).memberId, req.params.id),
  );

  app.post(
    '/orders/:id/confirm-receipt',
    { schema: { tags: ['store'], summary: '确认收货: the parcel arrived; the order is completed (else after 15 days by itself)', security: sec, params: idParams, response: { 200: order } } },
    async (req) => orders.confirmReceipt(ctx(req), currentMember(req).memberId, req.params.id),
  );

  app.post(
    '/orders/:id/after-sales',
    {
      preValidation: perMemberLimit(app, 'after-sale', 10),
      schema: {
        tags: ['store'],
        summary: '申请退款: the whole order (no lines) or some lines back, with a reason; the merchant accepts or rejects',
        security: sec,
        params: idParams,
        body: z.object({ reason: z.string().trim().min(1).max(80), lines: afterSaleLines.optional() }),
        response: { 200: afterSaleView },
      },
    },
    async (req) => {
      const memberId = currentMember(req).memberId;
      const order = await orders.detail(ctx(req), memberId, req.params.id);
      return afterSales.request(ctx(req), { orderId: order.id, memberId, reason: req.body.reason, lines: req.body.lines });
    },
  );

  app.get(
    '/orders/:id/after-sales',
    { schema: { tags: ['store'], summary: 'The refund requests of an order and where each stands', security: sec, params: idParams, response: { 200: z.array(afterSaleView) } } },
    async (req) => {
      const memberId = currentMember(req).memberId;
      const order = await orders.detail(ctx(req), memberId, req.params.id);
      return afterSales.list(ctx(req), { orderId: order.id, memberId });
    },
  );

  app.get('/addresses', { schema: { tags: ['addresses'], security: sec, response: { 200: z.array(address) } } }, async (req) =>
    (await addresses.list(ctx(req), currentMember(req).memberId)).map((a) => addressView(a, true)),
  );

  app.get(
    '/addresses/:id',
    { schema: { tags: ['addresses'], summary: 'One address with the full phone, for the edit form', security: sec, params: z.object({ id: uuid }), response: { 200: address } } },
    async (req) => addressView(await addresses.get(ctx(req), currentMember(req).memberId, req.params.id), false),
  );

  app.post('/addresses', { config: { collectsPersonalData: true }, schema: { tags: ['addresses'], security: sec, body: addressBody, response: { 200: address } } }, async (req) =>
    addressView(await addresses.create(ctx(req), currentMember(req).memberId, req.body, req.headers['idempotency-key'] === undefined ? undefined : idempotencyKey(req)), true),
  );

  app.put('/addresses/:id', { config: { collectsPersonalData: true }, schema: { tags: ['addresses'], security: sec, params: z.object({ id: uuid }), body: addressBody, response: { 200: address } } }, async (req) =>
    addressView(await addresses.update(ctx(req), currentMember(req).memberId, req.params.id, req.body), true),
  );

  app.delete('/addresses/:id', { schema: { tags: ['addresses'], security: sec, params: z.object({ id: uuid }), response: { 204: z.null() } } }, async (req, reply) => {
    await addresses.remove(ctx(req), currentMember(req).memberId, req.params.id);
    return reply.code(204).send(null);
  });
};
