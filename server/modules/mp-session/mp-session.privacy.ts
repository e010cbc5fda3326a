import type { Db } from '../../infra/db';
import type { PrivacyHooks } from '../../infra/privacy';

/**
 * Mini-program sessions and the privacy-notice consent. A merge moves the sessions, so a member logged in before
 * keeps working as the survivor; the consent is copied to the survivor (the latest acceptance wins) and each id
 * keeps its own record as proof, as an erasure does.
 */
export function mpSessionPrivacy(db: Db): PrivacyHooks {
  return {
    name: 'miniProgram',
    tables: {
      mp_session: { member: ['member_id'], personal: ['mp_openid', 'session_key'], exportedAs: 'miniProgram.sessions' },
      mp_privacy_consent: {
        member: ['member_id'],
        exportedAs: 'miniProgram.privacyConsent',
        keptOnMerge: 'the consent each member id gave stays as proof; the survivor gets the latest acceptance',
      },
    },

    async export(ctx, id) {
      // The session key and the token's hash are credentials, not data about the member.
      const sessions = await db.rows(
        ctx,
        'SELECT mp_openid, created_at, expires_at, revoked_at FROM mp_session WHERE member_id = $1 ORDER BY created_at, id',
        [id],
      );
      const [privacyConsent] = await db.rows(ctx, 'SELECT version, accepted_at FROM mp_privacy_consent WHERE member_id = $1', [id]);
      return { sessions, privacyConsent: privacyConsent ?? null };
    },

    // Sessions end and their WeChat keys go; the consent record stays as proof.
    async erase(ctx, id) {
      const sessions = await db.rows(
        ctx,
        "UPDATE mp_session SET revoked_at = COALESCE(revoked_at, now()), session_key = '', mp_openid = 'erased' WHERE member_id = $1 RETURNING 1",
        [id],
      );
      return { sessions: sessions.length };
    },

    async merge(ctx, survivorId, otherId) {
      const sessions = await db.rows(ctx, 'UPDATE mp_session SET member_id = $1 WHERE member_id = $2 RETURNING 1', [survivorId, otherId]);
      await db.rows(
        ctx,
        `INSERT INTO mp_privacy_consent (member_id, version, accepted_at)
         SELECT $1, version, accepted_at FROM mp_privacy_consent WHERE member_id = $2
         ON CONFLICT (member_id) DO UPDATE SET version = EXCLUDED.version, accepted_at = EXCLUDED.accepted_at
          WHERE EXCLUDED.accepted_at > mp_privacy_consent.accepted_at`,
        [survivorId, otherId],
      );
      return { sessions: sessions.length };
    },
  };
}
