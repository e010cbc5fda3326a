import type { Db } from '../../infra/db';
import type { PrivacyHooks } from '../../infra/privacy';

/**
 * Gift boxes a member started, the boxes they helped open and their counts per campaign. None of it is personal
 * beyond the member's id: helpers are shown by the member ledger's nickname and avatar, read when a box is shown,
 * so an erasure there leaves nothing here to clear. The rewards are in the points ledger, which a merge moves.
 */
export function giftBoxPrivacy(db: Db): PrivacyHooks {
  return {
    name: 'giftBox',
    tables: {
      gift_box: { member: ['owner_member_id'], exportedAs: 'giftBox.boxes' },
      gift_box_help: { member: ['helper_member_id'], exportedAs: 'giftBox.helps' },
      gift_box_member: { member: ['member_id'], exportedAs: 'giftBox.counts' },
    },

    async export(ctx, id) {
      const boxes = await db.rows(
        ctx,
        `SELECT b.id, c.name AS campaign, b.status AS box_status, b.helps, b.helps_required, b.reward_points, b.parent_box_id, b.created_at, b.unlocked_at, b.rewarded_at
           FROM gift_box b JOIN gift_box_campaign c ON c.id = b.campaign_id WHERE b.owner_member_id = $1 ORDER BY b.created_at`,
        [id],
      );
      const helps = await db.rows(
        ctx,
        `SELECT h.box_id, c.name AS campaign, h.created_at FROM gift_box_help h JOIN gift_box_campaign c ON c.id = h.campaign_id
          WHERE h.helper_member_id = $1 ORDER BY h.created_at`,
        [id],
      );
      const counts = await db.rows(
        ctx,
        `SELECT c.name AS campaign, m.boxes, m.helps FROM gift_box_member m JOIN gift_box_campaign c ON c.id = m.campaign_id
          WHERE m.member_id = $1 ORDER BY c.starts_at`,
        [id],
      );
      return { boxes, helps, counts };
    },

    // Ids and counts only: the campaign's figures keep them.
    async erase() {
      return {};
    },

    async merge(ctx, survivorId, otherId) {
      const boxes = await db.rows(ctx, 'UPDATE gift_box SET owner_member_id = $1 WHERE owner_member_id = $2 RETURNING 1', [survivorId, otherId]);
      // A box both helped keeps both helps (it was opened by them): one row stays, the survivor's.
      const joined = await db.rows(
        ctx,
        'DELETE FROM gift_box_help o USING gift_box_help s WHERE o.helper_member_id = $2 AND s.helper_member_id = $1 AND s.box_id = o.box_id RETURNING 1',
        [survivorId, otherId],
      );
      const helps = await db.rows(ctx, 'UPDATE gift_box_help SET helper_member_id = $1 WHERE helper_member_id = $2 RETURNING 1', [survivorId, otherId]);
      await db.rows(
        ctx,
        `WITH gone AS (DELETE FROM gift_box_member WHERE member_id = $2 RETURNING campaign_id, boxes, helps)
         INSERT INTO gift_box_member (campaign_id, member_id, boxes, helps) SELECT campaign_id, $1, boxes, helps FROM gone
         ON CONFLICT (campaign_id, member_id) DO UPDATE SET boxes = gift_box_member.boxes + EXCLUDED.boxes, helps = gift_box_member.helps + EXCLUDED.helps`,
        [survivorId, otherId],
      );
      return { boxes: boxes.length, helps: helps.length, helpsJoined: joined.length };
    },
  };
}
