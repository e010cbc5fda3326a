import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentMember, perMemberLimit } from '../../infra/auth';
import type { CheckInService } from './check-ins.service';

const result = z.object({
  date: z.string(),
  streak: z.number(),
  reward: z.object({ points: z.number(), couponName: z.string().nullable() }),
  pointsBalance: z.number(),
});

const day = z.iso.date();

/** The member's check-in; mounted inside /api/mp behind the member session. */
export const checkInMemberRoutes: FastifyPluginAsyncZod<{ checkIns: CheckInService }> = async (app, { checkIns }) => {
  app.post(
    '/check-ins',
    {
      preValidation: perMemberLimit(app, 'check-in', 20),
      schema: { tags: ['check-in'], summary: "Today's check-in (once per Asia/Shanghai day)", security: [{ bearer: [] }], response: { 200: result } },
    },
    async (req) => checkIns.checkIn({ requestId: req.id }, currentMember(req).memberId),
  );

  app.post(
    '/check-ins/make-up',
    {
      preValidation: perMemberLimit(app, 'check-in-make-up', 20),
      schema: {
        tags: ['check-in'],
        summary: 'Make up a missed day with a make-up card (补签卡) or points',
        security: [{ bearer: [] }],
        body: z.object({ date: day }),
        response: { 200: result },
      },
    },
    async (req) => checkIns.makeUp({ requestId: req.id }, currentMember(req).memberId, req.body.date),
  );

  app.get(
    '/check-ins',
    {
      schema: {
        tags: ['check-in'],
        summary: "The month's calendar, streak and make-up cards",
        security: [{ bearer: [] }],
        querystring: z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM').optional() }),
        response: {
          200: z.object({
            month: z.string(),
            today: z.string(),
            todayCheckedIn: z.boolean(),
            streak: z.number(),
            makeUpCards: z.number(),
            days: z.array(z.object({ date: z.string(), checkedIn: z.boolean(), madeUp: z.boolean() })),
            rules: z.object({ basePoints: z.number(), day7Bonus: z.number(), day30Bonus: z.number(), makeUpCostPoints: z.number() }),
          }),
        },
      },
    },
    async (req) => checkIns.month({ requestId: req.id }, currentMember(req).memberId, req.query.month),
  );

  app.post(
    '/check-ins/reminder',
    {
      schema: {
        tags: ['check-in'],
        summary: 'The answer to wx.requestSubscribeMessage for the daily reminder',
        security: [{ bearer: [] }],
        body: z.object({ accepted: z.boolean() }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      const m = currentMember(req);
      await checkIns.setReminder({ requestId: req.id }, m.memberId, m.mpOpenid, req.body.accepted);
      return reply.code(204).send(null);
    },
  );
};

const rulesView = z.object({
  basePoints: z.number(),
  day7Bonus: z.number(),
  day30Bonus: z.number(),
  makeUpCostPoints: z.number(),
  makeUpWindowDays: z.number(),
  reminderTemplateId: z.string().nullable(),
});

/** The merchant's check-in rules; mounted inside /api/admin. */
export const checkInAdminRoutes: FastifyPluginAsyncZod<{ checkIns: CheckInService }> = async (app, { checkIns }) => {
  const view = async (id: string) => {
    const { basePoints, day7Bonus, day30Bonus, makeUpCostPoints, makeUpWindowDays, reminderTemplateId } = await checkIns.rules({ requestId: id });
    return { basePoints, day7Bonus, day30Bonus, makeUpCostPoints, makeUpWindowDays, reminderTemplateId };
  };
  app.get('/check-in-rules', { schema: { tags: ['check-in'], security: [{ bearer: [] }], response: { 200: rulesView } } }, async (req) => view(req.id));
  app.put(
    '/check-in-rules',
    {
      config: { roles: ['owner', 'operator'] },
      schema: {
        tags: ['check-in'],
        security: [{ bearer: [] }],
        body: z.object({
          basePoints: z.number().int().min(0).max(10_000).optional(),
          day7Bonus: z.number().int().min(0).max(100_000).optional(),
          day30Bonus: z.number().int().min(0).max(1_000_000).optional(),
          makeUpCostPoints: z.number().int().min(0).max(100_000).optional(),
          makeUpWindowDays: z.number().int().min(1).max(31).optional(),
          reminderTemplateId: z.string().min(1).max(128).nullable().optional(),
        }),
        response: { 200: rulesView },
      },
    },
    async (req) => {
      await checkIns.updateRules({ requestId: req.id }, req.body);
      return view(req.id);
    },
  );
};
