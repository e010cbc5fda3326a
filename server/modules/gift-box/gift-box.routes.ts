import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentMember, currentStaff, perMemberLimit } from '../../infra/auth';
import type { GiftBoxService } from './gift-box.service';

const status = z.enum(['open', 'unlocked', 'rewarded', 'expired']);
const reward = z.object({ kind: z.literal('points'), points: z.number() });
const boxSummary = z.object({ id: z.uuid(), campaignId: z.uuid(), status, helpsRequired: z.number(), helps: z.number() });

const campaignView = z.object({
  id: z.uuid(),
  name: z.string(),
  rules: z.string(),
  helpsRequired: z.number(),
  reward,
  stock: z.number().nullable(),
  reserved: z.number(),
  startsAt: z.string(),
  endsAt: z.string(),
  boxesPerMember: z.number(),
  helpsPerHelper: z.number(),
  newMembersOnly: z.boolean(),
  status: z.enum(['scheduled', 'running', 'ended']),
  createdAt: z.string(),
});

const campaignBody = z.object({
  name: z.string().trim().min(1).max(60),
  rules: z.string().trim().min(1).max(4000).describe('Shown on the box page before anyone acts: the steps, the helpers needed, the reward and the end time'),
  helpsRequired: z.number().int().min(1).max(50).default(9).describe('Fixed for the campaign, never random'),
  reward: z
    .discriminatedUnion('kind', [z.object({ kind: z.literal('points'), points: z.number().int().min(1).max(1_000_000) })])
    .describe('Certain, never a draw. Points only for now: coupon and product rewards are not offered yet'),
  stock: z.number().int().min(0).max(10_000_000).nullable().default(null).describe('Rewards on offer: each box started reserves one; null for no limit'),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  boxesPerMember: z.number().int().min(1).max(100).default(1),
  helpsPerHelper: z.number().int().min(1).max(100).default(1).describe('Boxes one member may help open in this campaign'),
  newMembersOnly: z.boolean().default(false).describe('Only members whose first login falls inside the campaign may help'),
});

const boxView = boxSummary.extend({
  campaignName: z.string(),
  parentBoxId: z.uuid().nullable(),
  helpers: z.array(z.object({ nickname: z.string().nullable(), avatarUrl: z.string().nullable() })),
  reward,
  rules: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  mine: z.boolean(),
  helpedByMe: z.boolean(),
  createdAt: z.string(),
});

const figures = z.object({
  campaignId: z.uuid(),
  boxesStarted: z.number(),
  boxesUnlocked: z.number(),
  boxesRewarded: z.number(),
  boxesExpired: z.number(),
  helps: z.number(),
  helpers: z.number(),
  newMembers: z.number(),
  pointsIssued: z.number(),
  pointsPerNewMember: z.number().nullable(),
  kFactor: z.number().describe('Boxes started from another box, per box started'),
  treeDepth: z.number().describe('Boxes in the longest chain of boxes started from boxes (a box on its own is 1)'),
  byHour: z.array(z.object({ hour: z.string(), boxesStarted: z.number(), boxesUnlocked: z.number(), helps: z.number(), newMembers: z.number() })),
});

const tree = z.object({
  rootBoxId: z.uuid(),
  boxes: z.array(
    z.object({
      id: z.uuid(),
      parentBoxId: z.uuid().nullable(),
      ownerMemberId: z.uuid(),
      status,
      helps: z.number(),
      helpsRequired: z.number(),
      depth: z.number().describe('1 for the root box'),
      createdAt: z.string(),
    }),
  ),
});

const idParams = z.object({ id: z.uuid() });

/** The merchant's gift box campaigns, their figures and trees; mounted inside /api/admin. */
export const giftBoxAdminRoutes: FastifyPluginAsyncZod<{ giftBox: GiftBoxService }> = async (app, { giftBox }) => {
  app.post(
    '/gift-box-campaigns',
    {
      config: { roles: ['owner', 'operator'] },
      schema: { tags: ['gift-box'], summary: 'A gift box (拆礼盒) campaign', security: [{ bearer: [] }], body: campaignBody, response: { 201: campaignView } },
    },
    async (req, reply) => reply.code(201).send(await giftBox.createCampaign({ requestId: req.id }, req.body, currentStaff(req).id)),
  );
  app.get('/gift-box-campaigns', { schema: { tags: ['gift-box'], security: [{ bearer: [] }], response: { 200: z.object({ items: z.array(campaignView) }) } } }, async (req) => ({
    items: await giftBox.campaigns({ requestId: req.id }),
  }));
  app.get('/gift-box-campaigns/:id', { schema: { tags: ['gift-box'], security: [{ bearer: [] }], params: idParams, response: { 200: campaignView } } }, async (req) =>
    giftBox.campaign({ requestId: req.id }, req.params.id),
  );
  app.get(
    '/gift-box-campaigns/:id/figures',
    { schema: { tags: ['gift-box'], summary: 'Boxes, helps, new members, K-factor and tree depth, in total and by hour', security: [{ bearer: [] }], params: idParams, response: { 200: figures } } },
    async (req) => giftBox.figures({ requestId: req.id }, req.params.id),
  );
  app.get(
    '/gift-boxes/:id/tree',
    { schema: { tags: ['gift-box'], summary: 'The boxes started from this box, and from those', security: [{ bearer: [] }], params: idParams, response: { 200: tree } } },
    async (req) => giftBox.tree({ requestId: req.id }, req.params.id),
  );
};

/** The member's gift boxes and the helps of their friends; mounted inside /api/mp behind the member session. */
export const giftBoxMemberRoutes: FastifyPluginAsyncZod<{ giftBox: GiftBoxService }> = async (app, { giftBox }) => {
  app.get(
    '/gift-box-campaigns/:id',
    {
      schema: {
        tags: ['gift-box'],
        summary: 'The campaign page: rules, helpers needed, reward and end time, shown before anyone acts',
        security: [{ bearer: [] }],
        params: z.object({ id: z.string() }),
        response: { 200: campaignView.pick({ id: true, name: true, rules: true, helpsRequired: true, reward: true, startsAt: true, endsAt: true, status: true, newMembersOnly: true }) },
      },
    },
    async (req) => {
      const { id, name, rules, helpsRequired, reward: r, startsAt, endsAt, status: s, newMembersOnly } = await giftBox.campaign({ requestId: req.id }, req.params.id);
      return { id, name, rules, helpsRequired, reward: r, startsAt, endsAt, status: s, newMembersOnly };
    },
  );

  app.post(
    '/gift-boxes',
    {
      preValidation: perMemberLimit(app, 'gift-box-start', 10),
      schema: {
        tags: ['gift-box'],
        summary: 'Start my gift box (from a box I was shown: parentBoxId)',
        security: [{ bearer: [] }],
        body: z.object({ campaignId: z.string(), parentBoxId: z.string().optional() }),
        response: { 201: boxSummary },
      },
    },
    async (req, reply) => reply.code(201).send(await giftBox.startBox({ requestId: req.id }, currentMember(req).memberId, req.body)),
  );

  app.get('/gift-boxes', { schema: { tags: ['gift-box'], summary: 'My boxes and their progress', security: [{ bearer: [] }], response: { 200: z.object({ items: z.array(boxSummary.extend({ campaignName: z.string(), endsAt: z.string(), createdAt: z.string() })) }) } } }, async (req) => ({
    items: await giftBox.myBoxes({ requestId: req.id }, currentMember(req).memberId),
  }));

  app.get(
    '/gift-boxes/:id',
    { schema: { tags: ['gift-box'], summary: 'The shared box page: progress, helpers (nickname and avatar), reward, rules, end time', security: [{ bearer: [] }], params: z.object({ id: z.string() }), response: { 200: boxView } } },
    async (req) => giftBox.box({ requestId: req.id }, currentMember(req).memberId, req.params.id),
  );

  app.post(
    '/gift-boxes/:id/helps',
    {
      preValidation: perMemberLimit(app, 'gift-box-help', 30),
      // The helper's nickname and avatar are shown to the box's owner.
      config: { collectsPersonalData: true },
      schema: {
        tags: ['gift-box'],
        summary: '帮TA拆: a logged-in member helps open the box (opening the page counts for nothing)',
        security: [{ bearer: [] }],
        params: z.object({ id: z.string() }),
        response: { 200: z.object({ helps: z.number(), status }) },
      },
    },
    async (req) => giftBox.help({ requestId: req.id }, currentMember(req).memberId, req.params.id),
  );
};
