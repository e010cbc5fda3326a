import type { FastifyInstance, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { forbidden, rateLimited, unauthorized } from './errors';
import type { StaffIdentity, StaffService } from '../modules/staff/staff.service';
import type { StaffRole } from '../modules/staff/staff.entity';
import type { MemberSession, MpSessionService } from '../modules/mp-session/mp-session.service';

declare module 'fastify' {
  interface FastifyRequest {
    staff?: StaffIdentity;
    member?: MemberSession;
  }
  interface FastifyContextConfig {
    /** Staff roles allowed on an /api/admin route; every role when absent. */
    roles?: readonly StaffRole[];
    /** Route needs no session (the login itself). */
    public?: boolean;
  }
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const [scheme, token] = header.split(' ');
  return scheme?.toLowerCase() === 'bearer' && token ? token.trim() : undefined;
}

/** The guard of the whole /api/admin subtree: a live staff session, and the route's role. */
export function requireStaff(staff: StaffService): preValidationAsyncHookHandler {
  return async (req) => {
    const config = req.routeOptions.config;
    if (config.public) return;
    const token = bearerToken(req);
    if (!token) throw unauthorized('missing_token', 'Log in first: Authorization: Bearer <token> is required');
    req.staff = await staff.authenticate({ requestId: req.id }, token);
    if (config.roles && !config.roles.includes(req.staff.role)) {
      throw forbidden('role_forbidden', `This needs one of the roles: ${config.roles.join(', ')}`);
    }
  };
}

export function currentStaff(req: FastifyRequest): StaffIdentity {
  if (!req.staff) throw unauthorized('missing_token', 'Log in first');
  return req.staff;
}

/** The guard of the /api/mp subtree: a live mini-program session. The member comes from it, never from the body. */
export function requireMember(sessions: MpSessionService): preValidationAsyncHookHandler {
  return async (req) => {
    if (req.routeOptions.config.public) return;
    const token = bearerToken(req);
    if (!token) throw unauthorized('missing_token', 'Log in first: Authorization: Bearer <token> is required');
    req.member = await sessions.authenticate({ requestId: req.id }, token);
  };
}

export function currentMember(req: FastifyRequest): MemberSession {
  if (!req.member) throw unauthorized('missing_token', 'Log in first');
  return req.member;
}

/**
 * A member's budget on one endpoint (claims, check-in, binding, redemption, checkout), counted by member: every
 * session of one member draws on the same budget, and members sharing a shop's Wi-Fi do not share it. A route's
 * preValidation hook, so it runs after the member guard has resolved the session and before the body is read; the
 * per-address budget of every route still counts the call first.
 */
export function perMemberLimit(app: FastifyInstance, name: string, max: number, timeWindow = 60_000): preValidationAsyncHookHandler {
  const limiter = app.createRateLimit({ max, timeWindow, keyGenerator: (req) => `member:${name}:${currentMember(req).memberId}` });
  return async (req, reply) => {
    const r = await limiter(req);
    if (r.isAllowed || !r.isExceeded) return;
    reply.header('retry-after', r.ttlInSeconds);
    throw rateLimited('rate_limited', `Too many requests; retry in ${r.ttlInSeconds} s`);
  };
}
