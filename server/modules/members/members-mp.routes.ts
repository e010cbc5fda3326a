import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentMember, perMemberLimit } from '../../infra/auth';
import type { Services } from '../../app';
import { mpMemberCardSchema, type MpMemberCard } from './members.schemas';

/** The member's own card, binding and personal data in the mini-program; mounted inside /api/mp. */
export const membersMpRoutes: FastifyPluginAsyncZod<{ services: Services; memberCard: (memberId: string) => Promise<MpMemberCard> }> = async (
  app,
  { services: s, memberCard },
) => {
  app.get(
    '/me',
    { schema: { tags: ['mini-program'], summary: 'The member card', security: [{ bearer: [] }], response: { 200: mpMemberCardSchema } } },
    async (req) => memberCard(currentMember(req).memberId),
  );

  app.post(
    '/bindings',
    {
      preValidation: perMemberLimit(app, 'binding', 20),
      config: { collectsPersonalData: true },
      schema: {
        tags: ['mini-program'],
        summary: 'Bind a Taobao order (order number + last four digits of the receiver’s phone)',
        security: [{ bearer: [] }],
        body: z.object({ orderNo: z.string().regex(/^\d{18,19}$/, 'the 18–19 digit Taobao order number'), phoneLast4: z.string().regex(/^\d{4}$/) }),
        response: {
          200: z.object({
            taobaoBuyer: z.object({ nickMasked: z.string(), channelName: z.string(), ordersCount: z.number() }),
            pointsAwarded: z.number(),
          }),
        },
      },
    },
    async (req) => {
      const r = await s.memberBinding.bindTaobaoOrder({ requestId: req.id }, currentMember(req).memberId, req.body.orderNo, req.body.phoneLast4);
      return {
        taobaoBuyer: { nickMasked: r.buyerNick ?? '淘宝买家', channelName: r.channel.name, ordersCount: r.ordersBound },
        pointsAwarded: r.pointsAwarded,
      };
    },
  );

  app.get(
    '/me/export',
    { schema: { tags: ['mini-program'], summary: 'All my data (PIPL)', security: [{ bearer: [] }], response: { 200: z.record(z.string(), z.unknown()) } } },
    async (req, reply) => {
      const { memberId } = currentMember(req);
      const data = await s.memberPrivacy.exportData({ requestId: req.id }, memberId, `member:${memberId}`);
      return reply.header('content-disposition', 'attachment; filename="my-data.json"').send(data);
    },
  );

  app.post(
    '/me/erase',
    {
      schema: {
        tags: ['mini-program'],
        summary: 'Erase my personal data (PIPL); the session ends',
        security: [{ bearer: [] }],
        body: z.object({ confirm: z.literal(true) }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const { memberId } = currentMember(req);
      await s.memberPrivacy.erase({ requestId: req.id }, memberId, { actor: `member:${memberId}`, reason: 'requested by the member' });
      await s.mpSessions.revokeAll({ requestId: req.id }, memberId);
      return reply.code(204).send(null);
    },
  );
};
