import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentStaff } from '../../infra/auth';
import { AppError } from '../../infra/errors';
import { STAFF_ROLES } from './staff.entity';
import type { StaffService } from './staff.service';

const staffView = z.object({
  id: z.string(),
  username: z.string(),
  role: z.enum(STAFF_ROLES),
  displayName: z.string().nullable(),
  createdAt: z.string(),
  disabled: z.boolean(),
});

const username = z.string().trim().min(3).max(64).regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits and _ . @ - only');

/** Staff login and accounts; mounted under /api/admin inside the staff guard. */
export const staffRoutes: FastifyPluginAsyncZod<{ staff: StaffService }> = async (app, { staff }) => {
  app.post(
    '/login',
    {
      config: { public: true, rateLimit: { max: 20, timeWindow: 60_000 } },
      schema: {
        tags: ['admin'],
        summary: 'Log in as merchant staff; returns a bearer token',
        body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
        response: { 200: z.object({ token: z.string(), expiresAt: z.string(), staff: staffView }) },
      },
    },
    async (req, reply) => {
      try {
        const r = await staff.login({ requestId: req.id }, req.body.username, req.body.password, req.ip);
        return { token: r.token, expiresAt: r.expiresAt.toISOString(), staff: r.staff };
      } catch (err) {
        // A refused login says when to come back, in the header as well as in `details`.
        const wait = err instanceof AppError ? (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds : undefined;
        if (wait) reply.header('retry-after', wait);
        throw err;
      }
    },
  );

  app.post(
    '/logout',
    { schema: { tags: ['admin'], summary: 'Revoke this session', security: [{ bearer: [] }], response: { 204: z.null() } } },
    async (req, reply) => {
      await staff.logout({ requestId: req.id }, currentStaff(req).sessionId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      schema: {
        tags: ['admin'],
        summary: 'Who is logged in',
        security: [{ bearer: [] }],
        response: { 200: z.object({ id: z.string(), username: z.string(), role: z.enum(STAFF_ROLES) }) },
      },
    },
    async (req) => {
      const me = currentStaff(req);
      return { id: me.id, username: me.username, role: me.role };
    },
  );

  app.get(
    '/staff',
    {
      config: { roles: ['owner'] },
      schema: { tags: ['admin'], summary: 'List staff accounts (owner)', security: [{ bearer: [] }], response: { 200: z.array(staffView) } },
    },
    async (req) => staff.list({ requestId: req.id }),
  );

  app.post(
    '/staff',
    {
      config: { roles: ['owner'] },
      schema: {
        tags: ['admin'],
        summary: 'Create a staff account (owner)',
        security: [{ bearer: [] }],
        body: z.object({
          username,
          password: z.string().min(10).max(256),
          role: z.enum(STAFF_ROLES),
          displayName: z.string().trim().max(64).optional(),
        }),
        response: { 201: staffView },
      },
    },
    async (req, reply) => reply.code(201).send(await staff.createAccount({ requestId: req.id }, req.body)),
  );

  app.post(
    '/staff/:id/disable',
    {
      config: { roles: ['owner'] },
      schema: {
        tags: ['admin'],
        summary: 'Disable a staff account and revoke its sessions (owner)',
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await staff.disable({ requestId: req.id }, req.params.id);
      return reply.code(204).send(null);
    },
  );
};
