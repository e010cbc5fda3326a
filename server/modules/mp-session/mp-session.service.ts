import { hashToken, newToken } from '../../infra/password';
import { IsNull } from 'typeorm';
import { prepared, type Ctx, type Db } from '../../infra/db';
import { unauthorized } from '../../infra/errors';
import { MpPrivacyConsent, MpSession } from './mp-session.entity';

const FIND_CONSENT = prepared('SELECT version FROM mp_privacy_consent WHERE member_id = $1');
const FIND_SESSION = prepared('SELECT id, member_id, mp_openid, expires_at, revoked_at FROM mp_session WHERE token_hash = $1');

export interface MpLogin {
  /** jscode2session: a code works once; invalid or reused codes throw. */
  code2Session(code: string): Promise<{ openid: string; unionid?: string; sessionKey: string }>;
}

export interface MpMembers {
  memberForMpOpenid(ctx: Ctx, openid: string, unionid?: string): Promise<string>;
}

export interface MemberSession {
  readonly memberId: string;
  readonly mpOpenid: string;
  readonly sessionId: string;
}

/** Bump when the privacy notice's text changes: members see and accept it again. */
export const PRIVACY_NOTICE_VERSION = '2026-12';


export class MpSessionService {
  constructor(
    private readonly db: Db,
    private readonly wechat: MpLogin,
    private readonly members: MpMembers,
    private readonly sessionDays: number,
  ) {}

  async login(ctx: Ctx, code: string): Promise<{ token: string; expiresAt: Date; memberId: string; privacyAccepted: boolean }> {
    let identity: { openid: string; unionid?: string; sessionKey: string };
    try {
      identity = await this.wechat.code2Session(code);
    } catch (err) {
      throw unauthorized('invalid_code', `WeChat refused the login code: ${(err as Error).message}`);
    }
    const token = newToken();
    const expiresAt = new Date(Date.now() + this.sessionDays * 86_400_000);
    const memberId = await this.db.transaction(ctx, async (tx) => {
      const id = await this.members.memberForMpOpenid(tx, identity.openid, identity.unionid);
      await this.db.repo(tx, MpSession).insert({
        tokenHash: hashToken(token),
        memberId: id,
        mpOpenid: identity.openid,
        sessionKey: identity.sessionKey,
        expiresAt,
        revokedAt: null,
      });
      return id;
    });
    const consent = await this.db.repo(ctx, MpPrivacyConsent).findOneBy({ memberId });
    return { token, expiresAt, memberId, privacyAccepted: consent?.version === PRIVACY_NOTICE_VERSION };
  }

  async authenticate(ctx: Ctx, token: string): Promise<MemberSession> {
    // Every member request passes here: one indexed row, no entity mapping.
    const [s] = await this.db.query<{ id: string; member_id: string; mp_openid: string; expires_at: Date; revoked_at: Date | null }>(ctx, FIND_SESSION, [
      hashToken(token),
    ]);
    if (!s || s.revoked_at) throw unauthorized('invalid_session', 'Session is not valid; log in again');
    if (new Date(s.expires_at).getTime() <= Date.now()) throw unauthorized('session_expired', 'Session expired; log in again');
    return { memberId: s.member_id, mpOpenid: s.mp_openid, sessionId: s.id };
  }

  /** Whether the member accepted the current privacy notice (a merge copies the latest acceptance to the survivor). */
  async hasAcceptedPrivacy(ctx: Ctx, memberId: string): Promise<boolean> {
    const [row] = await this.db.query<{ version: string }>(ctx, FIND_CONSENT, [memberId]);
    return row?.version === PRIVACY_NOTICE_VERSION;
  }

  async acceptPrivacy(ctx: Ctx, memberId: string, version: string): Promise<void> {
    await this.db.rows(ctx, 'INSERT INTO mp_privacy_consent (member_id, version, accepted_at) VALUES ($1, $2, now()) ON CONFLICT (member_id) DO UPDATE SET version = EXCLUDED.version, accepted_at = EXCLUDED.accepted_at',
        [memberId, version],
      );
  }

  async logout(ctx: Ctx, sessionId: string): Promise<void> {
    await this.db.repo(ctx, MpSession).update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  /** Erasure: every session of the member ends. */
  async revokeAll(ctx: Ctx, memberId: string): Promise<void> {
    await this.db.repo(ctx, MpSession).update({ memberId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }
}
