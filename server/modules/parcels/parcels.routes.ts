import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentStaff } from '../../infra/auth';
import { CARD_HEADLINE, renderInsertCards } from './insert-cards';
import type { ClaimsCounter, ParcelsService } from './parcels.service';
import type { ConversationService } from './conversation.service';

const batchView = z.object({
  id: z.string(),
  name: z.string(),
  scene: z.string(),
  channelId: z.string().nullable(),
  quantityPrinted: z.number(),
  printingCostFen: z.number(),
  insertText: z.string(),
  welcomeText: z.string().nullable(),
  qrKind: z.enum(['permanent', 'temporary']),
  qrTicket: z.string().nullable(),
  qrUrl: z.string().nullable(),
  qrImageUrl: z.string().nullable(),
  qrExpiresAt: z.string().nullable(),
  createdAt: z.string(),
});

const counts = {
  scans: z.number(),
  newFollowers: z.number(),
  refollows: z.number(),
  followerScans: z.number(),
  unfollows: z.number(),
};

const messageView = z.object({
  id: z.string(),
  msgId: z.string(),
  openid: z.string(),
  direction: z.enum(['in', 'out']),
  msgType: z.string(),
  content: z.string().nullable(),
  staffId: z.string().nullable(),
  sentAt: z.string(),
});

const writers = ['owner', 'operator'] as const;

export interface ParcelsRoutesOptions {
  parcels: ParcelsService;
  conversation: ConversationService;
  countClaims: ClaimsCounter;
  brand: string;
}

/** Merchant API of the parcel flow; mounted inside /api/admin. */
export const parcelsRoutes: FastifyPluginAsyncZod<ParcelsRoutesOptions> = async (app, { parcels, conversation, countClaims, brand }) => {
  app.post(
    '/parcel-batches',
    {
      config: { roles: writers },
      schema: {
        tags: ['parcels'],
        summary: 'Create a parcel-insert batch and its QR code (permanent unless temporaryDays is given)',
        security: [{ bearer: [] }],
        body: z.object({
          name: z.string().trim().min(1).max(60),
          channelId: z.string().max(64).nullish(),
          quantityPrinted: z.number().int().min(0).max(10_000_000),
          printingCostFen: z.number().int().min(0).max(1_000_000_000),
          insertText: z.string().trim().min(1).max(300),
          welcomeText: z.string().trim().min(1).max(600).nullish(),
          temporaryDays: z.number().int().min(1).max(30).optional(),
        }),
        response: { 201: batchView },
      },
    },
    async (req, reply) => reply.code(201).send(await parcels.createBatch({ requestId: req.id }, req.body)),
  );

  app.get(
    '/parcel-batches',
    {
      schema: {
        tags: ['parcels'],
        security: [{ bearer: [] }],
        response: { 200: z.object({ batches: z.array(batchView), permanentCodes: z.object({ used: z.number(), limit: z.number() }) }) },
      },
    },
    async (req) => ({
      batches: await parcels.listBatches({ requestId: req.id }),
      permanentCodes: await parcels.permanentCodesUsed({ requestId: req.id }),
    }),
  );

  app.get(
    '/parcel-batches/:id/figures',
    {
      schema: {
        tags: ['parcels'],
        summary: 'Scans, followers, bound buyers, review claims and cost per follower, in total and by day',
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        response: {
          200: z.object({
            batchId: z.string(),
            ...counts,
            netFollowers: z.number(),
            boundBuyers: z.number(),
            reviewRewardClaims: z.number(),
            printingCostFen: z.number(),
            costPerFollowerFen: z.number().nullable(),
            costPerBoundBuyerFen: z.number().nullable(),
            byDay: z.array(z.object({ day: z.string(), ...counts })),
          }),
        },
      },
    },
    async (req) => parcels.batchFigures({ requestId: req.id }, req.params.id, countClaims),
  );

  app.get(
    '/parcel-batches/:id/cards.pdf',
    {
      schema: {
        tags: ['parcels'],
        summary: 'Printable insert cards: A6 (one per page) or A4 (four per sheet)',
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        querystring: z.object({ layout: z.enum(['a6', 'a4']).default('a6'), copies: z.coerce.number().int().min(1).max(400).default(4) }),
      },
    },
    async (req, reply) => {
      const batch = await parcels.getBatch({ requestId: req.id }, req.params.id);
      if (!batch.qrUrl) return reply.code(409).send({ code: 'qr_missing', message: 'This batch has no QR code yet' });
      const pdf = await renderInsertCards(
        { qrContent: batch.qrUrl, brand, headline: CARD_HEADLINE, offer: batch.insertText },
        req.query.layout,
        req.query.copies,
      );
      return reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', `attachment; filename="insert-cards-${batch.id.slice(0, 8)}-${req.query.layout}.pdf"`)
        .send(pdf);
    },
  );

  app.get(
    '/messages',
    {
      schema: {
        tags: ['conversation'],
        summary: 'Messages followers sent and staff replies, newest first',
        security: [{ bearer: [] }],
        querystring: z.object({
          openid: z.string().max(64).optional(),
          since: z.coerce.date().optional(),
          until: z.coerce.date().optional(),
          before: z.string().regex(/^\d+$/).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: z.object({ messages: z.array(messageView) }) },
      },
    },
    async (req) => ({ messages: await conversation.listMessages({ requestId: req.id }, req.query) }),
  );

  app.post(
    '/messages/:openid/reply',
    {
      config: { roles: ['owner', 'operator', 'customer_service'] },
      schema: {
        tags: ['conversation'],
        summary: 'Reply to a follower as customer service (within WeChat’s 48-hour window)',
        security: [{ bearer: [] }],
        params: z.object({ openid: z.string().min(1).max(64) }),
        body: z.object({ text: z.string().trim().min(1).max(600) }),
        response: { 201: messageView },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await conversation.reply({ requestId: req.id }, currentStaff(req).id, req.params.openid, req.body.text)),
  );

  const keywordView = z.object({ id: z.string(), keyword: z.string(), matchKind: z.enum(['exact', 'contains']), reply: z.string(), priority: z.number() });
  app.get(
    '/keyword-replies',
    { schema: { tags: ['conversation'], security: [{ bearer: [] }], response: { 200: z.array(keywordView) } } },
    async (req) => (await conversation.listKeywordReplies({ requestId: req.id })).map(({ id, keyword, matchKind, reply, priority }) => ({ id, keyword, matchKind, reply, priority })),
  );
  app.post(
    '/keyword-replies',
    {
      config: { roles: writers },
      schema: {
        tags: ['conversation'],
        security: [{ bearer: [] }],
        body: z.object({
          keyword: z.string().trim().min(1).max(30),
          matchKind: z.enum(['exact', 'contains']).default('contains'),
          reply: z.string().trim().min(1).max(600),
          priority: z.number().int().min(0).max(1000).optional(),
        }),
        response: { 201: keywordView },
      },
    },
    async (req, reply) => {
      const { id, keyword, matchKind, reply: text, priority } = await conversation.addKeywordReply({ requestId: req.id }, req.body);
      return reply.code(201).send({ id, keyword, matchKind, reply: text, priority });
    },
  );
  app.delete(
    '/keyword-replies/:id',
    { config: { roles: writers }, schema: { tags: ['conversation'], security: [{ bearer: [] }], params: z.object({ id: z.uuid() }), response: { 204: z.null() } } },
    async (req, reply) => {
      await conversation.removeKeywordReply({ requestId: req.id }, req.params.id);
      return reply.code(204).send(null);
    },
  );
};
