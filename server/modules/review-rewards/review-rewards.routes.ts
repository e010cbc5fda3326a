import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentStaff, perMemberLimit } from '../../infra/auth';
import { invalid } from '../../infra/errors';
import { CLAIM_STATES } from './review-rewards.entity';
import type { ReviewRewardsService } from './review-rewards.service';
import { MAX_SCREENSHOT_BYTES } from './screenshot-store';

const claimView = z.object({
  id: z.string(),
  campaignId: z.string(),
  memberId: z.string(),
  orderNo: z.string(),
  status: z.enum(CLAIM_STATES),
  rewardKind: z.enum(['cash', 'points']),
  amountFen: z.number(),
  points: z.number(),
  rejectReason: z.string().nullable(),
  failureReason: z.string().nullable(),
  outBillNo: z.string().nullable(),
  submittedAt: z.string(),
  decidedAt: z.string().nullable(),
  settledAt: z.string().nullable(),
});

// No rating anywhere: the campaign rewards an honest review of any rating.
const campaignView = z.object({
  id: z.string(),
  name: z.string(),
  rewardKind: z.enum(['cash', 'points']),
  amountFen: z.number(),
  points: z.number(),
  startsAt: z.string(),
  endsAt: z.string(),
  dailyBudgetFen: z.number().nullable(),
  transferRemark: z.string(),
  active: z.boolean(),
});

const toCampaignView = (c: {
  id: string;
  name: string;
  rewardKind: 'cash' | 'points';
  amountFen: number;
  points: number;
  startsAt: Date;
  endsAt: Date;
  dailyBudgetFen: number | null;
  transferRemark: string;
  active: boolean;
}) => ({
  ...c,
  startsAt: new Date(c.startsAt).toISOString(),
  endsAt: new Date(c.endsAt).toISOString(),
});

const writers = ['owner', 'operator'] as const;
const reviewers = ['owner', 'operator', 'customer_service'] as const;

/** The merchant's side: campaigns and the review queue. Mounted inside /api/admin. */
export const reviewRewardsAdminRoutes: FastifyPluginAsyncZod<{ rewards: ReviewRewardsService }> = async (app, { rewards }) => {
  app.post(
    '/review-campaigns',
    {
      config: { roles: writers },
      schema: {
        tags: ['review-rewards'],
        summary: 'Create a 晒单评价有礼 campaign (cash through merchant transfer, or points)',
        security: [{ bearer: [] }],
        body: z.object({
          name: z.string().trim().min(1).max(60),
          rewardKind: z.enum(['cash', 'points']).default('cash'),
          amountFen: z.number().int().min(10).max(20000).optional(),
          points: z.number().int().min(1).max(1_000_000).optional(),
          startsAt: z.coerce.date(),
          endsAt: z.coerce.date(),
          dailyBudgetFen: z.number().int().min(1).max(1_000_000_000_000).nullish(),
          transferRemark: z.string().trim().min(1).max(32).optional(),
        }),
        response: { 201: campaignView },
      },
    },
    async (req, reply) => reply.code(201).send(toCampaignView(await rewards.createCampaign({ requestId: req.id }, req.body))),
  );

  app.get(
    '/review-campaigns',
    { schema: { tags: ['review-rewards'], security: [{ bearer: [] }], response: { 200: z.array(campaignView) } } },
    async (req) => (await rewards.listCampaigns({ requestId: req.id })).map(toCampaignView),
  );

  app.post(
    '/review-campaigns/:id/:action',
    {
      config: { roles: writers },
      schema: {
        tags: ['review-rewards'],
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid(), action: z.enum(['activate', 'deactivate']) }),
        response: { 200: campaignView },
      },
    },
    async (req) => toCampaignView(await rewards.setCampaignActive({ requestId: req.id }, req.params.id, req.params.action === 'activate')),
  );

  app.get(
    '/review-claims',
    {
      schema: {
        tags: ['review-rewards'],
        summary: 'The review queue (oldest first)',
        security: [{ bearer: [] }],
        querystring: z.object({ status: z.enum(CLAIM_STATES).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.array(claimView) },
      },
    },
    async (req) => rewards.listClaims({ requestId: req.id }, req.query),
  );

  app.get(
    '/review-claims/:id/screenshot',
    { schema: { tags: ['review-rewards'], security: [{ bearer: [] }], params: z.object({ id: z.uuid() }) } },
    async (req, reply) => {
      const { bytes, type } = await rewards.screenshot({ requestId: req.id }, req.params.id);
      return reply.header('content-type', type).header('cache-control', 'private, no-store').send(bytes);
    },
  );

  app.post(
    '/review-claims/:id/approve',
    {
      config: { roles: reviewers },
      schema: {
        tags: ['review-rewards'],
        summary: 'The review exists and belongs to the order: pay the reward',
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        response: { 200: claimView },
      },
    },
    async (req) => rewards.approve({ requestId: req.id }, currentStaff(req).id, req.params.id),
  );

  app.post(
    '/review-claims/:id/reject',
    {
      config: { roles: reviewers },
      schema: {
        tags: ['review-rewards'],
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        body: z.object({ reason: z.string().trim().min(2).max(200) }),
        response: { 200: claimView },
      },
    },
    async (req) => rewards.reject({ requestId: req.id }, currentStaff(req).id, req.params.id, req.body.reason),
  );

  app.post(
    '/review-claims/:id/retry-transfer',
    {
      config: { roles: writers },
      schema: {
        tags: ['review-rewards'],
        summary: 'Retry a failed transfer (a new bill only once WeChat shows the old one failed)',
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        response: { 200: claimView },
      },
    },
    async (req) => rewards.retryTransfer({ requestId: req.id }, req.params.id),
  );
};

export interface MemberRoutesOptions {
  rewards: ReviewRewardsService;
  /** The member of the mini-program session (never from the request body). */
  memberOf: (req: FastifyRequest) => string;
  mchId: string;
  mpAppId: string;
}

/** The member's side, in the mini-program. Mounted inside /api/mp behind the member session. */
export const reviewRewardsMemberRoutes: FastifyPluginAsyncZod<MemberRoutesOptions> = async (app, { rewards, memberOf, mchId, mpAppId }) => {
  await app.register(multipart, { limits: { fileSize: MAX_SCREENSHOT_BYTES, files: 1, fields: 4, fieldSize: 256, parts: 5 } });

  app.post(
    '/review-claims',
    {
      preValidation: perMemberLimit(app, 'review-claim', 10),
      config: { collectsPersonalData: true },
      schema: {
        tags: ['review-rewards'],
        summary: 'Claim the reward for an order: multipart with fields orderNo and screenshot (the review’s screenshot)',
        security: [{ bearer: [] }],
        consumes: ['multipart/form-data'],
        response: { 201: claimView },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) throw invalid('multipart_required', 'Send multipart/form-data with orderNo and screenshot');
      let orderNo: string | undefined;
      let screenshot: Buffer | undefined;
      for await (const part of req.parts()) {
        if (part.type === 'file' && part.fieldname === 'screenshot') {
          screenshot = await part.toBuffer();
          if (part.file.truncated) throw invalid('screenshot_too_large', 'The screenshot must be 5 MB or smaller');
        } else if (part.type === 'field' && part.fieldname === 'orderNo') {
          orderNo = String(part.value).trim();
        }
      }
      if (!orderNo || !/^\d{18,19}$/.test(orderNo)) throw invalid('invalid_order_no', 'orderNo must be the 18–19 digit Taobao order number');
      const claim = await rewards.submitClaim({ requestId: req.id }, memberOf(req), { orderNo, screenshot: screenshot ?? Buffer.alloc(0) });
      return reply.code(201).send(claim);
    },
  );

  app.get(
    '/review-claims',
    { schema: { tags: ['review-rewards'], security: [{ bearer: [] }], response: { 200: z.array(claimView) } } },
    async (req) => rewards.listClaims({ requestId: req.id }, { memberId: memberOf(req), limit: 100 }),
  );

  app.get(
    '/review-claims/:id/transfer',
    {
      schema: {
        tags: ['review-rewards'],
        summary: 'What wx.requestMerchantTransfer needs to confirm the reward',
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        response: { 200: z.object({ mchId: z.string(), appId: z.string(), package: z.string() }) },
      },
    },
    async (req) => {
      const t = await rewards.transferPackageFor({ requestId: req.id }, memberOf(req), req.params.id);
      return { mchId, appId: mpAppId, package: t.packageInfo };
    },
  );
};
