import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentMember } from '../../infra/auth';
import { invalid } from '../../infra/errors';
import { mpMemberCardSchema, type MpMemberCard } from '../members/members.schemas';
import { PRIVACY_NOTICE_VERSION, type MpSessionService } from './mp-session.service';

export interface MpSessionRoutesOptions {
  sessions: MpSessionService;
  /** The member card shown right after login (the members module builds it). */
  memberCard: (memberId: string) => Promise<MpMemberCard>;
}

/** Mini-program login and consent; mounted inside /api/mp (login itself is public). */
export const mpSessionRoutes: FastifyPluginAsyncZod<MpSessionRoutesOptions> = async (app, { sessions, memberCard }) => {
  app.post(
    '/login',
    {
      config: { public: true, rateLimit: { max: 30, timeWindow: 60_000 } },
      schema: {
        tags: ['mini-program'],
        summary: 'Exchange a wx.login code for a session token',
        body: z.object({ code: z.string().min(1).max(128) }),
        response: {
          200: z.object({
            token: z.string(),
            expiresAt: z.string(),
            member: mpMemberCardSchema,
            privacy: z.object({ version: z.string(), accepted: z.boolean() }),
          }),
        },
      },
    },
    async (req) => {
      const r = await sessions.login({ requestId: req.id }, req.body.code);
      return {
        token: r.token,
        expiresAt: r.expiresAt.toISOString(),
        member: await memberCard(r.memberId),
        privacy: { version: PRIVACY_NOTICE_VERSION, accepted: r.privacyAccepted },
      };
    },
  );

  app.post(
    '/privacy/accept',
    {
      schema: {
        tags: ['mini-program'],
        summary: 'The member accepted the privacy notice of this version',
        security: [{ bearer: [] }],
        body: z.object({ version: z.string().min(1).max(32) }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      if (req.body.version !== PRIVACY_NOTICE_VERSION) throw invalid('privacy_version', `The current notice is version ${PRIVACY_NOTICE_VERSION}`);
      await sessions.acceptPrivacy({ requestId: req.id }, currentMember(req).memberId, req.body.version);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/logout',
    { schema: { tags: ['mini-program'], security: [{ bearer: [] }], response: { 204: z.null() } } },
    async (req, reply) => {
      await sessions.logout({ requestId: req.id }, currentMember(req).sessionId);
      return reply.code(204).send(null);
    },
  );
};
