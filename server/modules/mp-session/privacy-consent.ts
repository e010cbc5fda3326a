import type { preValidationAsyncHookHandler } from 'fastify';
import { currentMember } from '../../infra/auth';
import { forbidden } from '../../infra/errors';
import { PRIVACY_NOTICE_VERSION, type MpSessionService } from './mp-session.service';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route collects personal data (an address, a screenshot, phone digits): refused with 403
     * `privacy_consent_required` until the member has accepted the current privacy notice.
     */
    collectsPersonalData?: boolean;
  }
}

/** The guard of the /api/mp subtree after the session's: nothing personal is collected before the notice is accepted. */
export function requirePrivacyConsent(sessions: MpSessionService): preValidationAsyncHookHandler {
  return async (req) => {
    if (!req.routeOptions.config.collectsPersonalData) return;
    if (await sessions.hasAcceptedPrivacy({ requestId: req.id }, currentMember(req).memberId)) return;
    throw forbidden('privacy_consent_required', `Accept the privacy notice (version ${PRIVACY_NOTICE_VERSION}) first: POST /api/mp/privacy/accept`);
  };
}
