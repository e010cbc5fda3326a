import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentStaff } from '../../infra/auth';
import type { MemberServices } from './member-services';
import { LIFECYCLES } from './tiers.service';

const WRITE = { roles: ['owner', 'operator'] as const };
const READ = { roles: ['owner', 'operator', 'customer_service'] as const };

const memberId = z.object({ id: z.uuid() });

const summary = z.object({
  id: z.string(),
  memberCode: z.string(),
  nickname: z.string().nullable(),
  tier: z.string(),
  lifecycle: z.enum(LIFECYCLES),
  rfm: z.object({ r: z.number(), f: z.number(), m: z.number() }),
  spend12mFen: z.number().int(),
  orders12m: z.number().int(),
  spendTotalFen: z.number().int(),
  lastPurchaseAt: z.string().nullable(),
  pointsBalance: z.number().int(),
  bound: z.boolean(),
  tags: z.array(z.string()),
  createdAt: z.string(),
});

const pointsResult = z.object({
  transactionId: z.string(),
  kind: z.string(),
  memberId: z.string(),
  amount: z.number().int(),
  balanceAfter: z.number().int(),
  reversesId: z.string().nullable(),
  createdAt: z.string(),
  replayed: z.boolean(),
});

const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Members for the merchant console: segments, detail, profile, points adjustments, merge, PIPL export and erasure. */
export const membersRoutes: FastifyPluginAsyncZod<{ services: MemberServices }> = async (app, { services: s }) => {
  app.get(
    '/members',
    {
      config: READ,
      schema: {
        tags: ['members'],
        summary: 'List members by segment (tier, lifecycle, channel, tag, 12-month spend, bound or not)',
        security: [{ bearer: [] }],
        querystring: z.object({
          code: z.string().regex(/^\d{10}$/, 'the 10-digit member code').optional(),
          tier: z.string().max(40).optional(),
          lifecycle: z.enum(LIFECYCLES).optional(),
          channelId: z.uuid().optional(),
          tag: z.string().max(40).optional(),
          minSpendFen: z.coerce.number().int().min(0).max(1_000_000_000_000).optional(),
          maxSpendFen: z.coerce.number().int().min(0).max(1_000_000_000_000).optional(),
          bound: boolQuery.optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
        }),
        response: { 200: z.object({ total: z.number().int(), items: z.array(summary) }) },
      },
    },
    async (req) => s.memberQuery.list({ requestId: req.id }, req.query),
  );

  app.get(
    '/members/:id',
    {
      config: READ,
      schema: {
        tags: ['members'],
        summary: 'Member detail: masked identities, orders, points and tier history, audit',
        security: [{ bearer: [] }],
        params: memberId,
      },
    },
    async (req) => s.memberQuery.detail({ requestId: req.id }, req.params.id),
  );

  app.get(
    '/members/:id/card',
    {
      config: READ,
      schema: { tags: ['members'], summary: 'The member card: tier, perks, next tier, balance, points expiring soon', security: [{ bearer: [] }], params: memberId },
    },
    async (req) => s.memberQuery.card({ requestId: req.id }, req.params.id),
  );

  app.patch(
    '/members/:id',
    {
      config: WRITE,
      schema: {
        tags: ['members'],
        summary: 'Update profile and customer-service notes',
        security: [{ bearer: [] }],
        params: memberId,
        body: z
          .object({
            nickname: z.string().trim().max(64).nullable(),
            gender: z.enum(['male', 'female', 'unknown']).nullable(),
            birthday: z.iso.date().nullable(),
            region: z.string().trim().max(64).nullable(),
            tags: z.array(z.string().trim().min(1).max(40)).max(50),
            notes: z.string().max(4000).nullable(),
          })
          .partial()
          .strict(),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await s.members.updateProfile({ requestId: req.id }, req.params.id, req.body, `staff:${currentStaff(req).username}`);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/members/:id/points-adjustments',
    {
      config: WRITE,
      schema: {
        tags: ['members'],
        summary: 'Credit or debit points with a reason (audited; Idempotency-Key header or body key makes it safe to retry)',
        security: [{ bearer: [] }],
        params: memberId,
        body: z.object({
          delta: z.number().int().min(-1_000_000).max(1_000_000).refine((v) => v !== 0, 'must not be 0'),
          reason: z.string().trim().min(2).max(200),
          idempotencyKey: z.string().min(8).max(100),
        }),
        response: { 201: pointsResult, 200: pointsResult },
      },
    },
    async (req, reply) => {
      const staff = currentStaff(req);
      const id = await s.members.resolve({ requestId: req.id }, req.params.id);
      const r = await s.points.adjust(
        { requestId: req.id },
        { memberId: id, delta: req.body.delta, reason: req.body.reason, idempotencyKey: `admin:${req.body.idempotencyKey}`, actor: `staff:${staff.username}` },
      );
      return reply.code(r.replayed ? 200 : 201).send(r);
    },
  );

  app.post(
    '/members/:id/merge',
    {
      config: WRITE,
      schema: {
        tags: ['members'],
        summary: 'Merge another member (the same person found twice) into this one',
        security: [{ bearer: [] }],
        params: memberId,
        body: z.object({ otherId: z.uuid(), reason: z.string().trim().min(2).max(200) }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await s.members.merge({ requestId: req.id }, req.params.id, req.body.otherId, { reason: req.body.reason, actor: `staff:${currentStaff(req).username}` });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/members/:id/export',
    {
      config: WRITE,
      schema: { tags: ['members'], summary: "Export a member's personal data as JSON (PIPL); audited", security: [{ bearer: [] }], params: memberId },
    },
    async (req, reply) => {
      const data = await s.memberPrivacy.exportData({ requestId: req.id }, req.params.id, `staff:${currentStaff(req).username}`);
      return reply.header('content-disposition', `attachment; filename="member-${req.params.id}.json"`).send(data);
    },
  );

  app.post(
    '/members/:id/erase',
    {
      config: WRITE,
      schema: {
        tags: ['members'],
        summary: "Erase a member's personal data on request (PIPL); orders and ledger stay, anonymised; audited",
        security: [{ bearer: [] }],
        params: memberId,
        body: z.object({ reason: z.string().trim().min(2).max(200), confirm: z.literal(true) }),
        response: { 200: z.object({ memberId: z.string(), ordersAnonymised: z.number().int(), pointsForfeited: z.number().int() }) },
      },
    },
    async (req) => s.memberPrivacy.erase({ requestId: req.id }, req.params.id, { reason: req.body.reason, actor: `staff:${currentStaff(req).username}` }),
  );

  const tierSchema = z.object({
    code: z.string().regex(/^[a-z][a-z0-9_]{1,30}$/),
    name: z.string().trim().min(1).max(30),
    rank: z.number().int().min(0).max(100),
    minSpend12mFen: z.number().int().min(0).max(1_000_000_000_000),
    minOrders12m: z.number().int().min(0).max(1_000_000),
    perks: z.object({
      freeShipping: z.boolean(),
      discountPercent: z.number().min(0).max(90),
      pointsMultiplier: z.number().min(0).max(10),
      birthdayGift: z.boolean(),
    }),
  });

  app.get(
    '/tiers',
    { config: READ, schema: { tags: ['members'], summary: 'Member tiers with thresholds and perks', security: [{ bearer: [] }], response: { 200: z.array(tierSchema) } } },
    async (req) => s.tiers.list({ requestId: req.id }),
  );

  app.put(
    '/tiers',
    {
      config: { roles: ['owner'] },
      schema: {
        tags: ['members'],
        summary: 'Replace the tier table (owner); every member is re-tiered and changes are recorded',
        security: [{ bearer: [] }],
        body: z.array(tierSchema).min(1).max(10),
        response: { 200: z.array(tierSchema) },
      },
    },
    async (req) => s.tiers.replace({ requestId: req.id }, req.body),
  );

  app.get(
    '/channels',
    {
      config: READ,
      schema: {
        tags: ['members'],
        summary: 'Sales channels (Taobao and Tmall stores, mini-program store, offline stores)',
        security: [{ bearer: [] }],
        response: { 200: z.array(z.object({ id: z.string(), kind: z.string(), name: z.string(), orders: z.number().int() })) },
      },
    },
    async (req) => s.memberQuery.channels({ requestId: req.id }),
  );

  app.post(
    '/channels',
    {
      config: WRITE,
      schema: {
        tags: ['members'],
        summary: 'Add a sales channel (an offline store, the mini-program store, another Taobao/Tmall store)',
        security: [{ bearer: [] }],
        body: z.object({ kind: z.enum(['taobao', 'tmall', 'miniprogram', 'offline']), name: z.string().trim().min(1).max(60) }),
        response: { 201: z.object({ id: z.string(), kind: z.string(), name: z.string() }) },
      },
    },
    async (req, reply) => {
      return reply.code(201).send(await s.members.addChannel({ requestId: req.id }, req.body.kind, req.body.name));
    },
  );
};
