import { randomBytes } from 'node:crypto';
import type { Ctx, Db } from '../../infra/db';
import type { PrivacyHooks } from '../../infra/privacy';

/** The member's Official Account openids, as the member ledger knows them (a follower's row may not be linked yet). */
export type OaOpenidsOf = (ctx: Ctx, memberId: string) => Promise<string[]>;

/**
 * Official Account followers, their follow events and their messages. A follower belongs to the member by its
 * member_id, or by an openid the ledger holds for the member (before the follower-info sweep linked it).
 */
export function parcelsPrivacy(db: Db, oaOpenidsOf: OaOpenidsOf): PrivacyHooks {
  const openidsOf = async (ctx: Ctx, id: string): Promise<string[]> => {
    const rows = await db.rows<{ openid: string }>(ctx, 'SELECT openid FROM oa_follower WHERE member_id = $1 OR openid = ANY($2::text[])', [id, await oaOpenidsOf(ctx, id)]);
    return rows.map((r) => r.openid);
  };
  return {
    name: 'officialAccount',
    tables: {
      oa_follower: { member: ['member_id'], personal: ['openid', 'unionid'], exportedAs: 'officialAccount.followers' },
      follow_event: { personal: ['openid'], exportedAs: 'officialAccount.followEvents' },
      oa_message: { personal: ['openid', 'content'], exportedAs: 'officialAccount.messages' },
    },

    async export(ctx, id) {
      const openids = await openidsOf(ctx, id);
      const followers = await db.rows(
        ctx,
        `SELECT f.openid, f.unionid, f.subscribed, f.subscribed_at, f.unsubscribed_at, f.first_seen_at, f.last_event_at,
                fb.name AS first_batch, lb.name AS last_batch
           FROM oa_follower f LEFT JOIN parcel_batch fb ON fb.id = f.first_batch_id LEFT JOIN parcel_batch lb ON lb.id = f.last_batch_id
          WHERE f.openid = ANY($1::text[]) ORDER BY f.first_seen_at`,
        [openids],
      );
      const followEvents = await db.rows(
        ctx,
        `SELECT e.openid, e.event, e.kind, e.event_time, b.name AS batch FROM follow_event e LEFT JOIN parcel_batch b ON b.id = e.batch_id
          WHERE e.openid = ANY($1::text[]) ORDER BY e.event_time, e.id`,
        [openids],
      );
      const messages = await db.rows(
        ctx,
        'SELECT openid, direction, msg_type, content, sent_at FROM oa_message WHERE openid = ANY($1::text[]) ORDER BY sent_at, id',
        [openids],
      );
      return { followers, followEvents, messages };
    },

    // Messages go; follows stay as counts under a random token (the batch's figures keep adding up).
    async erase(ctx, id) {
      const openids = await openidsOf(ctx, id);
      let messages = 0;
      for (const openid of openids) {
        const token = `erased:${randomBytes(9).toString('base64url')}`;
        messages += (await db.rows(ctx, 'DELETE FROM oa_message WHERE openid = $1 RETURNING 1', [openid])).length;
        await db.rows(ctx, 'UPDATE follow_event SET openid = $2 WHERE openid = $1', [openid, token]);
        await db.rows(
          ctx,
          'UPDATE oa_follower SET openid = $2, unionid = NULL, member_id = NULL, info_fetched_at = COALESCE(info_fetched_at, now()) WHERE openid = $1',
          [openid, token],
        );
      }
      return { followers: openids.length, messages };
    },

    async merge(ctx, survivorId, otherId) {
      const moved = await db.rows(ctx, 'UPDATE oa_follower SET member_id = $1 WHERE member_id = $2 RETURNING 1', [survivorId, otherId]);
      return { followers: moved.length };
    },
  };
}
