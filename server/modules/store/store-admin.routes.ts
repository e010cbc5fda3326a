import type { FastifyRequest } from 'fastify';
import { currentStaff } from '../../infra/auth';
import { maskedReceiver, shipsGoods } from './addresses.service';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CatalogService } from './catalog.service';
import type { AfterSalesService } from './after-sales.service';
import { afterSaleLines, afterSaleView } from './after-sales.schemas';
import type { FulfilmentService } from './fulfilment.service';
import type { MallService } from './mall.service';
import type { MallItem, MallRedemption } from './store.entity';
import { order } from './store-member.routes';

export interface StoreAdminRoutesOptions {
  mall: MallService;
  catalog: CatalogService;
  fulfilment: FulfilmentService;
  afterSales: AfterSalesService;
}

const sec = [{ bearer: [] }];
const editors = { roles: ['owner', 'operator'] as const };


const id = z.object({ id: z.uuid() });
/** An order by its id or by its order number (what the member reads out to customer service). */
const idOrNo = z.object({ id: z.union([z.uuid(), z.string().regex(/^(?:\d{16}|[0-9a-f]{32})$/, 'an order id or order number')]) });
const fen = z.number().int().min(1).max(100_000_000);

const itemFields = {
  name: z.string().trim().min(1).max(60),
  description: z.string().max(1000).optional(),
  imageUrl: z.url().max(500).nullable().optional(),
  pointsCost: z.number().int().min(1).max(10_000_000),
  perMemberLimit: z.number().int().min(1).max(1000).nullable().optional(),
  couponValueFen: fen.nullable().optional(),
  couponMinSpendFen: z.number().int().min(0).max(100_000_000).nullable().optional(),
  couponValidDays: z.number().int().min(1).max(3650).nullable().optional(),
  shippingCardPeriod: z.enum(['monthly', 'yearly']).nullable().optional(),
  active: z.boolean().optional(),
  sort: z.number().int().min(-1_000_000).max(1_000_000).optional(),
};

const itemView = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  description: z.string(),
  imageUrl: z.string().nullable(),
  pointsCost: z.number(),
  stock: z.number(),
  perMemberLimit: z.number().nullable(),
  couponValueFen: z.number().nullable(),
  couponMinSpendFen: z.number().nullable(),
  couponValidDays: z.number().nullable(),
  shippingCardPeriod: z.string().nullable(),
  active: z.boolean(),
  sort: z.number(),
});
const showItem = (i: MallItem) => ({ ...i });

const redemptionView = z.object({
  id: z.string(),
  memberId: z.string(),
  itemId: z.string(),
  pointsSpent: z.number(),
  status: z.string(),
  address: z.record(z.string(), z.unknown()).nullable(),
  shippingCompany: z.string().nullable(),
  trackingNo: z.string().nullable(),
  createdAt: z.string(),
});
const showRedemption = (r: MallRedemption) => ({ ...r, createdAt: new Date(r.createdAt).toISOString() });

/** Receivers in full for the roles that ship goods (SHIPPING_ROLES), masked for the others. */
function forRole<T extends { address: object | null }>(req: FastifyRequest, views: T[]): T[] {
  if (shipsGoods(currentStaff(req).role)) return views;
  return views.map((v) => (v.address ? { ...v, address: maskedReceiver(v.address) } : v));
}

const sku = z.object({ id: z.string(), name: z.string(), priceFen: z.number(), stock: z.number(), active: z.boolean() });
const product = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  images: z.array(z.string()),
  active: z.boolean(),
  sort: z.number(),
  createdAt: z.string(),
  skus: z.array(sku),
});
const skuBody = z.object({ name: z.string().trim().min(1).max(60), priceFen: fen, stock: z.number().int().min(0).max(1_000_000), active: z.boolean().optional() });
const productFields = {
  title: z.string().trim().min(1).max(100),
  description: z.string().max(5000).optional(),
  images: z.array(z.url().max(500)).max(20).optional(),
  active: z.boolean().optional(),
  sort: z.number().int().min(-1_000_000).max(1_000_000).optional(),
};

const adminOrder = order.extend({
  memberId: z.string(),
  transactionId: z.string().nullable(),
  shippingState: z.enum(['not_shipped', 'shipped_not_uploaded', 'uploaded']),
  shippingUploadError: z.string().nullable(),
  refund: z.object({ status: z.string(), reason: z.string().nullable(), error: z.string().nullable(), refundedAt: z.string().nullable() }).nullable(),
  pointsAwarded: z.number(),
  pointsClawedBack: z.number(),
});

/** The merchant's reward items, products and orders; mounted inside /api/admin. */
export const storeAdminRoutes: FastifyPluginAsyncZod<StoreAdminRoutesOptions> = async (app, { mall, catalog, fulfilment, afterSales }) => {
  const ctx = (req: FastifyRequest) => ({ requestId: req.id });

  app.get('/mall/items', { schema: { tags: ['points-mall'], security: sec, response: { 200: z.array(itemView) } } }, async (req) => (await mall.adminItems(ctx(req))).map(showItem));
  app.post(
    '/mall/items',
    {
      config: editors,
      schema: {
        tags: ['points-mall'],
        security: sec,
        body: z.object({ kind: z.enum(['coupon', 'shipping_card', 'gift']), stock: z.number().int().min(0).max(1_000_000), ...itemFields }),
        response: { 200: itemView },
      },
    },
    async (req) => showItem(await mall.createItem(ctx(req), req.body)),
  );
  app.patch(
    '/mall/items/:id',
    {
      config: editors,
      schema: {
        tags: ['points-mall'],
        summary: 'Edit a reward; stock moves by stockDelta (relative, so redemptions meanwhile are kept)',
        security: sec,
        params: id,
        body: z.object({ ...itemFields, name: itemFields.name.optional(), pointsCost: itemFields.pointsCost.optional(), stockDelta: z.number().int().min(-1_000_000).max(1_000_000).optional() }),
        response: { 200: itemView },
      },
    },
    async (req) => showItem(await mall.updateItem(ctx(req), req.params.id, req.body)),
  );
  app.get(
    '/mall/redemptions',
    {
      schema: { tags: ['points-mall'], security: sec, querystring: z.object({ status: z.enum(['fulfilled', 'pending_shipment', 'shipped']).optional() }), response: { 200: z.array(redemptionView) } },
    },
    async (req) => forRole(req, (await mall.adminRedemptions(ctx(req), req.query.status)).map(showRedemption)),
  );
  app.post(
    '/mall/redemptions/:id/ship',
    {
      config: editors,
      schema: { tags: ['points-mall'], security: sec, params: id, body: z.object({ company: z.string().trim().min(1).max(40), trackingNo: z.string().trim().min(4).max(40) }), response: { 200: redemptionView } },
    },
    async (req) => showRedemption(await mall.shipGift(ctx(req), req.params.id, req.body.company, req.body.trackingNo)),
  );

  app.get('/products', { schema: { tags: ['store'], security: sec, response: { 200: z.array(product) } } }, async (req) => catalog.adminList(ctx(req)));
  app.get('/products/:id', { schema: { tags: ['store'], security: sec, params: id, response: { 200: product } } }, async (req) => catalog.adminGet(ctx(req), req.params.id));
  app.post(
    '/products',
    { config: editors, schema: { tags: ['store'], security: sec, body: z.object({ ...productFields, skus: z.array(skuBody).min(1).max(100) }), response: { 200: product } } },
    async (req) => catalog.createProduct(ctx(req), req.body),
  );
  app.patch(
    '/products/:id',
    { config: editors, schema: { tags: ['store'], security: sec, params: id, body: z.object({ ...productFields, title: productFields.title.optional() }), response: { 200: product } } },
    async (req) => catalog.updateProduct(ctx(req), req.params.id, req.body),
  );
  app.post('/products/:id/skus', { config: editors, schema: { tags: ['store'], security: sec, params: id, body: skuBody, response: { 200: product } } }, async (req) =>
    catalog.addSku(ctx(req), req.params.id, req.body),
  );
  app.patch(
    '/skus/:id',
    {
      config: editors,
      schema: {
        tags: ['store'],
        summary: 'Edit a SKU; stock moves by stockDelta (relative, so sales meanwhile are kept)',
        security: sec,
        params: id,
        body: z.object({ name: skuBody.shape.name.optional(), priceFen: fen.optional(), active: z.boolean().optional(), stockDelta: z.number().int().min(-1_000_000).max(1_000_000).optional() }),
        response: { 200: product },
      },
    },
    async (req) => catalog.updateSku(ctx(req), req.params.id, req.body),
  );

  app.get(
    '/orders',
    {
      schema: {
        tags: ['store'],
        security: sec,
        querystring: z.object({
          status: z.enum(['pending_payment', 'paid', 'shipped', 'completed', 'cancelled', 'refunded']).optional(),
          shipping: z.enum(['not_shipped', 'shipped_not_uploaded', 'uploaded']).optional(),
          orderNo: z.string().regex(/^[0-9a-f]{16,32}$/, 'the order number').optional().describe('the order number the member reads out'),
        }),
        response: { 200: z.array(adminOrder) },
      },
    },
    async (req) => forRole(req, await fulfilment.adminList(ctx(req), req.query)),
  );
  app.get('/orders/:id', { schema: { tags: ['store'], summary: 'One order, by its id or its order number', security: sec, params: idOrNo, response: { 200: adminOrder } } }, async (req) =>
    forRole(req, [await fulfilment.adminDetail(ctx(req), req.params.id)])[0]!,
  );
  app.post(
    '/orders/:id/ship',
    {
      config: editors,
      schema: {
        tags: ['store'],
        summary: 'Mark shipped; the shipping information then goes to WeChat (upload_shipping_info), retried until it is accepted',
        security: sec,
        params: id,
        body: z.object({ company: z.string().trim().min(1).max(40), trackingNo: z.string().trim().min(4).max(40) }),
        response: { 200: adminOrder },
      },
    },
    async (req) => fulfilment.ship(ctx(req), req.params.id, req.body.company, req.body.trackingNo),
  );
  app.post(
    '/orders/:id/refund',
    {
      config: editors,
      schema: {
        tags: ['store'],
        summary: 'Refund through WeChat Pay of what is left of the order, or of some lines; settled by the refund notification',
        security: sec,
        params: id,
        body: z.object({ reason: z.string().trim().min(1).max(80), lines: afterSaleLines.optional() }),
        response: { 200: adminOrder },
      },
    },
    async (req) => {
      await afterSales.refundOrder(ctx(req), req.params.id, req.body.reason, req.body.lines);
      return forRole(req, [await fulfilment.adminDetail(ctx(req), req.params.id)])[0]!;
    },
  );
  app.get(
    '/after-sales',
    {
      schema: {
        tags: ['store'],
        summary: 'Refund requests (申请退款), newest first',
        security: sec,
        querystring: z.object({ status: z.enum(['requested', 'rejected', 'refunding', 'refunded', 'failed']).optional(), orderId: z.uuid().optional() }),
        response: { 200: z.array(afterSaleView) },
      },
    },
    async (req) => afterSales.list(ctx(req), req.query),
  );
  app.post(
    '/after-sales/:id/accept',
    { config: editors, schema: { tags: ['store'], summary: 'Accepts a refund request: the refund goes to WeChat Pay', security: sec, params: id, body: z.object({ note: z.string().trim().max(200).optional() }).optional(), response: { 200: afterSaleView } } },
    async (req) => afterSales.accept(ctx(req), req.params.id, req.body?.note),
  );
  app.post(
    '/after-sales/:id/reject',
    { config: editors, schema: { tags: ['store'], summary: 'Rejects a refund request, with the reason the member sees', security: sec, params: id, body: z.object({ note: z.string().trim().min(1).max(200) }), response: { 200: afterSaleView } } },
    async (req) => afterSales.reject(ctx(req), req.params.id, req.body.note),
  );
};
