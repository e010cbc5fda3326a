import type { Db } from '../../infra/db';
import type { PrivacyHooks } from '../../infra/privacy';

/**
 * Check-in days, make-up cards and the evening reminder (a mini-program openid). The days' points are in the points
 * ledger, which a merge moves by itself; a day both members checked in stays one row that keeps both rewards.
 */
export function checkInsPrivacy(db: Db): PrivacyHooks {
  return {
    name: 'checkIns',
    tables: {
      check_in: { member: ['member_id'], exportedAs: 'checkIns.days' },
      check_in_card: { member: ['member_id'], exportedAs: 'checkIns.makeUpCards' },
      check_in_reminder: { member: ['member_id'], personal: ['mp_openid'], exportedAs: 'checkIns.reminder' },
    },

    async export(ctx, id) {
      const days = await db.rows(
        ctx,
        "SELECT to_char(day, 'YYYY-MM-DD') AS day, streak, made_up, reward_points, created_at FROM check_in WHERE member_id = $1 ORDER BY day",
        [id],
      );
      const [cards] = await db.rows(ctx, 'SELECT cards FROM check_in_card WHERE member_id = $1', [id]);
      const [reminder] = await db.rows(
        ctx,
        "SELECT mp_openid, remaining, to_char(last_sent_day, 'YYYY-MM-DD') AS last_sent_day FROM check_in_reminder WHERE member_id = $1",
        [id],
      );
      return { days, makeUpCards: cards ?? null, reminder: reminder ?? null };
    },

    // The reminder subscription (an openid) goes; check-in days hold nothing personal.
    async erase(ctx, id) {
      return { reminders: (await db.rows(ctx, 'DELETE FROM check_in_reminder WHERE member_id = $1 RETURNING 1', [id])).length };
    },

    async merge(ctx, survivorId, otherId) {
      // A day both checked in: the survivor's row stays, with the other's reward added (the points are in the ledger).
      await db.rows(
        ctx,
        `UPDATE check_in s SET reward_points = s.reward_points + o.reward_points, made_up = s.made_up AND o.made_up
           FROM check_in o WHERE s.member_id = $1 AND o.member_id = $2 AND o.day = s.day`,
        [survivorId, otherId],
      );
      const joined = await db.rows(ctx, 'DELETE FROM check_in o USING check_in s WHERE o.member_id = $2 AND s.member_id = $1 AND s.day = o.day RETURNING 1', [
        survivorId,
        otherId,
      ]);
      const moved = await db.rows(ctx, 'UPDATE check_in SET member_id = $1 WHERE member_id = $2 RETURNING 1', [survivorId, otherId]);
      // Streaks over the joined days: each run of consecutive days counts from 1.
      await db.rows(
        ctx,
        `WITH d AS (SELECT day, day - (row_number() OVER (ORDER BY day))::int AS run FROM check_in WHERE member_id = $1),
              s AS (SELECT day, row_number() OVER (PARTITION BY run ORDER BY day) AS streak FROM d)
         UPDATE check_in c SET streak = s.streak FROM s WHERE c.member_id = $1 AND c.day = s.day AND c.streak <> s.streak`,
        [survivorId],
      );
      await db.rows(
        ctx,
        `WITH gone AS (DELETE FROM check_in_card WHERE member_id = $2 RETURNING cards)
         INSERT INTO check_in_card (member_id, cards) SELECT $1, cards FROM gone
         ON CONFLICT (member_id) DO UPDATE SET cards = check_in_card.cards + EXCLUDED.cards`,
        [survivorId, otherId],
      );
      // One reminder per member: the one with more acceptances left (each belongs to its own openid).
      await db.rows(
        ctx,
        `WITH gone AS (DELETE FROM check_in_reminder WHERE member_id = $2 RETURNING mp_openid, remaining, last_sent_day)
         INSERT INTO check_in_reminder (member_id, mp_openid, remaining, last_sent_day) SELECT $1, mp_openid, remaining, last_sent_day FROM gone
         ON CONFLICT (member_id) DO UPDATE SET mp_openid = EXCLUDED.mp_openid, remaining = EXCLUDED.remaining, last_sent_day = EXCLUDED.last_sent_day
          WHERE EXCLUDED.remaining > check_in_reminder.remaining`,
        [survivorId, otherId],
      );
      return { days: moved.length, daysJoined: joined.length };
    },
  };
}
