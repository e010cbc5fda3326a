import type { Db } from '../../infra/db';
import type { PrivacyHooks } from '../../infra/privacy';
import type { TiersService } from './tiers.service';

/**
 * The member ledger's own tables: the profile, identities, Taobao orders, tier history and the audit. Its export is
 * the export's root (member, identities, orders, tierHistory, audit); the other modules' parts sit beside it under
 * their names.
 */
export function membersPrivacy(db: Db, tiers: TiersService): PrivacyHooks {
  return {
    name: 'members',
    tables: {
      member: { member: ['merged_into'], personal: ['nickname', 'gender', 'birthday', 'region', 'tags', 'notes'], exportedAs: 'member' },
      member_identity: { member: ['member_id'], personal: ['value', 'display'], exportedAs: 'identities' },
      sales_order: {
        member: ['member_id'],
        personal: ['buyer_key', 'buyer_nick', 'receiver_name', 'receiver_address', 'receiver_phone', 'phone_last4', 'phone_hash', 'buyer_message', 'extra'],
        exportedAs: 'orders',
      },
      member_avatar: { member: ['member_id'], personal: ['token', 'bytes'], exportedAs: 'avatar' },
      tier_change: { member: ['member_id'], exportedAs: 'tierHistory' },
      member_audit: { member: ['member_id'], exportedAs: 'audit', keptOnMerge: 'the audit of what was done to a member id stays with that id' },
    },

    async export(ctx, id) {
      const [member] = await db.rows(
        ctx,
        `SELECT id, nickname, gender, to_char(birthday, 'YYYY-MM-DD') AS birthday, region, tags, notes, tier_code, created_at
           FROM member WHERE id = $1`,
        [id],
      );
      const identities = await db.rows(
        ctx,
        `SELECT i.kind, CASE WHEN i.kind = 'phone' THEN i.display ELSE coalesce(i.display, i.value) END AS value,
                CASE WHEN i.kind = 'phone' THEN 'stored only as a keyed hash' END AS note, c.name AS channel, i.created_at
           FROM member_identity i LEFT JOIN sales_channel c ON c.id = i.channel_id WHERE i.member_id = $1 ORDER BY i.created_at`,
        [id],
      );
      const orders = await db.rows(
        ctx,
        `SELECT c.kind AS channel_kind, c.name AS channel, o.order_no, o.status_text, o.total_fen, o.paid_fen, o.refund_fen,
                o.ordered_at, o.paid_at, o.item_title, o.item_count, o.items, o.buyer_nick, o.receiver_name, o.receiver_address,
                o.receiver_phone, o.buyer_message, sales_order_extra(o.extra, o.import_id) AS report_columns
           FROM sales_order o JOIN sales_channel c ON c.id = o.channel_id WHERE o.member_id = $1 ORDER BY o.ordered_at`,
        [id],
      );
      const audit = await db.rows(ctx, 'SELECT action, created_at FROM member_audit WHERE member_id = $1 ORDER BY id', [id]);
      // The image itself, as a data URL: the export is the member's copy of what is kept.
      const [avatar] = await db.rows(
        ctx,
        `SELECT content_type, octet_length(bytes) AS size_bytes, updated_at,
                'data:' || content_type || ';base64,' || translate(encode(bytes, 'base64'), E'\n', '') AS image
           FROM member_avatar WHERE member_id = $1`,
        [id],
      );
      return { member, identities, orders, avatar: avatar ?? null, tierHistory: await tiers.history(ctx, id), audit };
    },

    async erase(ctx, id) {
      await db.rows(ctx, 'DELETE FROM member_identity WHERE member_id = $1', [id]);
      await db.rows(ctx, 'DELETE FROM member_avatar WHERE member_id = $1 OR member_id IN (SELECT m.id FROM member m WHERE m.merged_into = $1)', [id]);
      await db.rows(
        ctx,
        `UPDATE member SET status = 'erased', erased_at = now(), nickname = NULL, gender = NULL, birthday = NULL, region = NULL,
                tags = '{}', notes = NULL, updated_at = now() WHERE id = $1`,
        [id],
      );
      // Members merged into this one are the same person: their profiles go too.
      await db.rows(
        ctx,
        `UPDATE member SET nickname = NULL, gender = NULL, birthday = NULL, region = NULL, tags = '{}', notes = NULL, erased_at = now()
          WHERE merged_into = $1`,
        [id],
      );
      const orders = await db.rows(
        ctx,
        `UPDATE sales_order SET buyer_key = NULL, buyer_nick = NULL, receiver_name = NULL, receiver_address = NULL,
                receiver_phone = NULL, phone_last4 = NULL, phone_hash = NULL, buyer_message = NULL, extra = '{}'::jsonb,
                erased_at = now(), updated_at = now()
          WHERE member_id = $1 RETURNING 1`,
        [id],
      );
      return { ordersAnonymised: orders.length };
    },

    async merge(ctx, survivorId, otherId) {
      const [moved] = await db.rows<{ identities: string; orders: string; tier_changes: string }>(
        ctx,
        `WITH i AS (UPDATE member_identity SET member_id = $1 WHERE member_id = $2 RETURNING 1),
              o AS (UPDATE sales_order SET member_id = $1 WHERE member_id = $2 RETURNING 1),
              t AS (UPDATE tier_change SET member_id = $1 WHERE member_id = $2 RETURNING 1)
         SELECT (SELECT count(*) FROM i) AS identities, (SELECT count(*) FROM o) AS orders, (SELECT count(*) FROM t) AS tier_changes`,
        [survivorId, otherId],
      );
      await db.rows(
        ctx,
        `UPDATE member s SET nickname = coalesce(s.nickname, o.nickname), gender = coalesce(s.gender, o.gender),
                birthday = coalesce(s.birthday, o.birthday), region = coalesce(s.region, o.region),
                tags = ARRAY(SELECT DISTINCT unnest(s.tags || o.tags)),
                notes = nullif(concat_ws(E'\\n', s.notes, o.notes), ''), updated_at = now()
           FROM member o WHERE s.id = $1 AND o.id = $2`,
        [survivorId, otherId],
      );
      // The survivor's own avatar wins; the other's moves only when the survivor has none.
      await db.rows(
        ctx,
        `WITH gone AS (DELETE FROM member_avatar WHERE member_id = $2 RETURNING token, content_type, bytes, updated_at)
         INSERT INTO member_avatar (member_id, token, content_type, bytes, updated_at)
         SELECT $1, token, content_type, bytes, updated_at FROM gone
         ON CONFLICT (member_id) DO NOTHING`,
        [survivorId, otherId],
      );
      // Members merged into the other before now point at the survivor.
      await db.rows(ctx, 'UPDATE member SET merged_into = $1 WHERE merged_into = $2', [survivorId, otherId]);
      return { identities: Number(moved!.identities), orders: Number(moved!.orders), tierChanges: Number(moved!.tier_changes) };
    },
  };
}
