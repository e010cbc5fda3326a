import { hashToken } from './password';
import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { forbidden, unauthorized } from './errors';
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

/** Member endpoints are limited per session (the member), not per address: a shop's Wi-Fi is one address. */
export const perSession = (req: FastifyRequest) => {
  const token = bearerToken(req);
  return token ? `s:${hashToken(token).slice(0, 32)}` : `ip:${req.ip}`;
};
