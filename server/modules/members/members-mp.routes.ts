import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentMember, perMemberLimit } from '../../infra/auth';
import { invalid, notFound } from '../../infra/errors';
import { MAX_AVATAR_BYTES } from './member-profile.service';
import type { Services } from '../module';
import { mpMemberCardSchema, mpProfileInputSchema, type MpMemberCard } from './members.schemas';

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

  app.put(
    '/me/profile',
    {
      preValidation: perMemberLimit(app, 'profile', 20),
      config: { collectsPersonalData: true },
      schema: {
        tags: ['mini-program'],
        summary: 'Set my nickname (from WeChat’s nickname input)',
        security: [{ bearer: [] }],
        body: mpProfileInputSchema,
        response: { 200: z.object({ nickname: z.string() }) },
      },
    },
    async (req) => ({ nickname: await s.memberProfile.setNickname({ requestId: req.id }, currentMember(req).memberId, req.body.nickname) }),
  );

  await app.register(async (upload) => {
    await upload.register(multipart, { limits: { fileSize: MAX_AVATAR_BYTES, files: 1, fields: 2, fieldSize: 256, parts: 3 } });
    upload.post(
      '/me/avatar',
      {
        preValidation: perMemberLimit(upload, 'avatar', 20),
        config: { collectsPersonalData: true },
        schema: {
          tags: ['mini-program'],
          summary: 'Set my avatar: multipart with the file avatar (the image WeChat’s chooseAvatar gave)',
          security: [{ bearer: [] }],
          consumes: ['multipart/form-data'],
          response: { 200: z.object({ avatarUrl: z.string() }) },
        },
      },
      async (req) => {
        if (!req.isMultipart()) throw invalid('multipart_required', 'Send multipart/form-data with the file avatar');
        let bytes: Buffer | undefined;
        for await (const part of req.parts()) {
          if (part.type === 'file' && part.fieldname === 'avatar') {
            // Past the limit the multipart reader stops with its own error: the avatar's code is the stable one.
            bytes = await part.toBuffer().catch((err: { code?: string }) => {
              throw err.code === 'FST_REQ_FILE_TOO_LARGE' ? invalid('avatar_too_large', 'The avatar must be 1 MB or smaller') : err;
            });
          } else if (part.type === 'file') {
            // Another file field: read to its end (bounded by the size limit), or the parts that follow never come.
            await part.toBuffer();
          }
        }
        return { avatarUrl: await s.memberProfile.setAvatar({ requestId: req.id }, currentMember(req).memberId, bytes ?? Buffer.alloc(0)) };
      },
    );
  });

  app.get(
    '/avatars/:token',
    {
      // An <image> sends no session: the token, new with every image, is what finds it.
      config: { public: true },
      schema: { tags: ['mini-program'], summary: 'A member’s avatar image', params: z.object({ token: z.string().regex(/^[0-9a-f]{32}$/) }) },
    },
    async (req, reply) => {
      const avatar = await s.memberProfile.avatar({ requestId: req.id }, req.params.token);
      if (!avatar) throw notFound('avatar_not_found', 'No such avatar');
      return reply.header('content-type', avatar.type).header('cache-control', 'public, max-age=31536000, immutable').send(avatar.bytes);
    },
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
