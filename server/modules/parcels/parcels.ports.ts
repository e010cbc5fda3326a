import type { Ctx } from '../../infra/db';

/**
 * What the parcel flow needs from outside its module, named in its own terms.
 * app.ts adapts the WeChat boundary and the member ledger to these.
 */
export interface OaQrCodes {
  /** A permanent QR_LIMIT_STR_SCENE code, or a temporary QR_STR_SCENE one when expireSeconds is given. */
  createQrCode(sceneStr: string, expireSeconds?: number): Promise<{ ticket: string; url: string; expireSeconds?: number }>;
}

export interface OaUsers {
  /**
   * user/info for up to 100 followers in one call (unionid appears only when the account is bound to an Open
   * Platform account); an openid WeChat does not know maps to null. Throws when WeChat cannot answer (the
   * followers are asked again later).
   */
  getUsersInfo(openids: readonly string[]): Promise<Map<string, { subscribed: boolean; unionid?: string } | null>>;
  /** A customer-service text message (inside WeChat's 48-hour window); a refusal carries WeChat's `errcode`. */
  sendText(openid: string, text: string): Promise<void>;
}

export type BindOutcome =
  | { ok: true; buyerNick: string; ordersLinked: number; pointsAwarded: number }
  | { ok: false; code: 'order_not_found' | 'phone_mismatch' | 'already_bound_to_other' | 'too_many_attempts' };

export interface MemberDirectory {
  /** The member behind an Official Account follower (created on first sight). */
  memberForOaOpenid(ctx: Ctx, openid: string, unionid?: string): Promise<string>;
  /** The same for many followers at once (openid → member id). */
  membersForOaFollowers(ctx: Ctx, followers: ReadonlyArray<{ openid: string; unionid?: string }>): Promise<Map<string, string>>;
  bindTaobaoOrder(ctx: Ctx, memberId: string, orderNo: string, phoneLast4: string): Promise<BindOutcome>;
  /** Which of these members are linked to a Taobao buyer. */
  boundMemberIds(ctx: Ctx, memberIds: readonly string[]): Promise<Set<string>>;
}
