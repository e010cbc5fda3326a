import { randomBytes } from 'node:crypto';
import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid } from '../../infra/errors';
import { sniffImageType } from '../review-rewards/screenshot-store';

export const MAX_AVATAR_BYTES = 1024 * 1024;
export const NICKNAME_MAX_CHARS = 32;
export type AvatarType = 'image/jpeg' | 'image/png' | 'image/webp';

/** Where a member's avatar is served (GET, no session: an <image> cannot send one; the token is unguessable). */
export const avatarPath = (token: string) => `/api/mp/avatars/${token}`;

/**
 * What the member tells about themself in the mini-program: the nickname (WeChat's type="nickname" input) and the
 * avatar (WeChat's chooseAvatar button). WeChat checks both for content before the mini-program sees them; the server
 * checks length, characters and that an avatar is an image.
 */
export class MemberProfileService {
  constructor(private readonly db: Db) {}

  async setNickname(ctx: Ctx, memberId: string, input: string): Promise<string> {
    const nickname = input.trim();
    const chars = [...nickname].length;
    if (chars === 0) throw invalid('nickname_empty', 'Enter a nickname');
    if (chars > NICKNAME_MAX_CHARS) throw invalid('nickname_too_long', `A nickname has at most ${NICKNAME_MAX_CHARS} characters`);
    // Control characters, line breaks and the bidi overrides that would reorder what a cashier reads.
    if (/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(nickname)) throw invalid('nickname_invalid', 'A nickname is one line of visible characters');
    const rows = await this.db.rows<{ nickname: string }>(
      ctx,
      "UPDATE member SET nickname = $2, updated_at = now() WHERE id = $1 AND status = 'active' RETURNING nickname",
      [memberId, nickname],
    );
    if (rows.length === 0) throw conflict('member_inactive', 'This member is no longer active');
    return rows[0]!.nickname;
  }

  /** Stores the new avatar in place of the old one; answers where it is served. */
  async setAvatar(ctx: Ctx, memberId: string, bytes: Buffer): Promise<string> {
    if (bytes.length === 0) throw invalid('avatar_missing', 'Attach the avatar image');
    if (bytes.length > MAX_AVATAR_BYTES) throw invalid('avatar_too_large', 'The avatar must be 1 MB or smaller');
    const type = sniffImageType(bytes);
    if (type !== 'image/jpeg' && type !== 'image/png' && type !== 'image/webp') throw invalid('avatar_not_image', 'The avatar must be a JPEG, PNG or WebP image');
    const token = randomBytes(16).toString('hex');
    const rows = await this.db.rows(
      ctx,
      `INSERT INTO member_avatar (member_id, token, content_type, bytes)
       SELECT id, $2, $3, $4 FROM member WHERE id = $1 AND status = 'active'
       ON CONFLICT (member_id) DO UPDATE SET token = excluded.token, content_type = excluded.content_type, bytes = excluded.bytes, updated_at = now()
       RETURNING 1`,
      [memberId, token, type, bytes],
    );
    if (rows.length === 0) throw conflict('member_inactive', 'This member is no longer active');
    return avatarPath(token);
  }

  async avatar(ctx: Ctx, token: string): Promise<{ type: AvatarType; bytes: Buffer } | null> {
    const [row] = await this.db.rows<{ content_type: AvatarType; bytes: Buffer }>(
      ctx,
      "SELECT a.content_type, a.bytes FROM member_avatar a JOIN member m ON m.id = a.member_id WHERE a.token = $1 AND m.status = 'active'",
      [token],
    );
    return row ? { type: row.content_type, bytes: row.bytes } : null;
  }
}
