import { prepared, type Ctx, type Db } from '../../infra/db';
import { hashRequest, ledgerError } from '../points/points.service';
import { conflict, invalid } from '../../infra/errors';
import { addDays, daysBetween, shanghaiDay } from '../../infra/time';
import { CheckInRules } from './check-ins.entity';

/** The points ledger, as check-ins use it. */
export interface CheckInPoints {
  /** Throws a conflict `insufficient_points` when the balance is short. */
  debit(ctx: Ctx, memberId: string, points: number, idempotencyKey: string, reason: string): Promise<number>;
  balance(ctx: Ctx, memberId: string): Promise<number>;
  /** When points credited at `earnedAt` expire: today's check-in posts its credit in its own statement. */
  expiryOf(earnedAt: Date): Date;
}

export interface ReminderSender {
  /** A mini-program subscription message (one per acceptance). */
  sendCheckInReminder(mpOpenid: string, templateId: string, streak: number): Promise<void>;
}

export const SEND_REMINDERS = 'check-ins.send-reminders';

/**
 * Today's check-in in one statement: the row (streak from yesterday's, reward from the rules; the primary key
 * (member, day) refuses a second), a make-up card on every seventh day, and the reward credited through the points
 * ledger's database function (points_credit, its published API), all or nothing.
 */
const CHECK_IN = prepared(`
  WITH r AS (SELECT base_points, day7_bonus, day30_bonus FROM check_in_rules WHERE id = 1),
       s AS (SELECT coalesce((SELECT streak FROM check_in WHERE member_id = $1::uuid AND day = $2::date - 1), 0) + 1 AS streak),
       ins AS (
         INSERT INTO check_in (member_id, day, streak, made_up, reward_points)
         SELECT $1::uuid, $2::date, s.streak, false,
                r.base_points + CASE WHEN s.streak % 7 = 0 THEN r.day7_bonus ELSE 0 END + CASE WHEN s.streak % 30 = 0 THEN r.day30_bonus ELSE 0 END
           FROM r, s
         ON CONFLICT DO NOTHING RETURNING streak, reward_points),
       card AS (
         INSERT INTO check_in_card (member_id, cards) SELECT $1::uuid, 1 FROM ins WHERE ins.streak % 7 = 0
         ON CONFLICT (member_id) DO UPDATE SET cards = check_in_card.cards + 1)
  SELECT ins.streak, ins.reward_points,
         CASE WHEN ins.reward_points > 0
           THEN (SELECT c.balance_after FROM points_credit($3::text, $4::text, 'earn', $1::uuid, ins.reward_points::bigint,
                   CASE WHEN ins.streak % 7 = 0 THEN '连续签到 ' || ins.streak || ' 天' ELSE '每日签到' END,
                   NULL, '{}'::jsonb, NULL, 'issued', $5::timestamptz) c)
         END AS balance
    FROM ins`);

export interface CheckInResult {
  date: string;
  streak: number;
  reward: { points: number; couponName: string | null };
  pointsBalance: number;
}

export interface MonthView {
  month: string;
  today: string;
  todayCheckedIn: boolean;
  streak: number;
  makeUpCards: number;
  days: Array<{ date: string; checkedIn: boolean; madeUp: boolean }>;
  rules: { basePoints: number; day7Bonus: number; day30Bonus: number; makeUpCostPoints: number };
}

export type RulesInput = Partial<Pick<CheckInRules, 'basePoints' | 'day7Bonus' | 'day30Bonus' | 'makeUpCostPoints' | 'makeUpWindowDays' | 'reminderTemplateId'>>;

/** Daily check-in: once per Asia/Shanghai day (the primary key says so), streaks, bonuses and make-up cards. */
export class CheckInService {
  constructor(
    private readonly db: Db,
    private readonly points: CheckInPoints,
    private readonly reminders: ReminderSender,
    /** The time of day the shop's Shanghai day is read from (tests fix it; the process uses the system clock). */
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async rules(ctx: Ctx): Promise<CheckInRules> {
    return (await this.db.repo(ctx, CheckInRules).findOneBy({ id: 1 }))!;
  }

  async updateRules(ctx: Ctx, input: RulesInput): Promise<CheckInRules> {
    await this.db.repo(ctx, CheckInRules).update({ id: 1 }, input);
    return this.rules(ctx);
  }

  /** Today's check-in and its points: CHECK_IN, one statement. */
  async checkIn(ctx: Ctx, memberId: string, now = this.clock()): Promise<CheckInResult> {
    const day = shanghaiDay(now);
    let row: { streak: number; reward_points: number; balance: string | null } | undefined;
    try {
      // The credit is identified by its key; its request is the check-in itself (member and day).
      [row] = await this.db.query(ctx, CHECK_IN, [memberId, day, `check-in:${memberId}:${day}`, hashRequest(['check-in', memberId, day]), this.points.expiryOf(now)]);
    } catch (err) {
      throw ledgerError(err);
    }
    if (!row) throw conflict('already_checked_in', 'Already checked in today');
    // A day worth no points posts nothing: its balance is asked of the ledger.
    const balance = row.balance === null ? await this.points.balance(ctx, memberId) : Number(row.balance);
    return { date: day, streak: row.streak, reward: { points: row.reward_points, couponName: null }, pointsBalance: balance };
  }

  /** Makes up a missed day with a make-up card, or with points when the member has none. */
  async makeUp(ctx: Ctx, memberId: string, day: string, now = this.clock()): Promise<CheckInResult> {
    const today = shanghaiDay(now);
    const rules = await this.rules(ctx);
    const age = daysBetween(day, today);
    if (age <= 0) throw invalid('not_missed', 'Only a past day can be made up');
    if (age > rules.makeUpWindowDays) throw invalid('too_old', `Only the last ${rules.makeUpWindowDays} days can be made up`);
    return this.recordMadeUp(ctx, memberId, day, rules.makeUpCostPoints);
  }

  /** The missed day's row (no points), paid with a card or points; the days after it now continue its streak. */
  private async recordMadeUp(ctx: Ctx, memberId: string, day: string, costPoints: number): Promise<CheckInResult> {
    return this.db.transaction(ctx, async (tx) => {
      const [inserted] = await this.db.rows<{ streak: number }>(
        tx,
        `INSERT INTO check_in (member_id, day, streak, made_up, reward_points)
         SELECT $1, $2, coalesce((SELECT streak FROM check_in WHERE member_id = $1 AND day = $2::date - 1), 0) + 1, true, 0
         ON CONFLICT DO NOTHING RETURNING streak`,
        [memberId, day],
      );
      if (!inserted) throw invalid('not_missed', 'That day is checked in already');
      await this.spendMakeUp(tx, memberId, day, costPoints);
      await this.db.rows(
        tx,
        `WITH RECURSIVE chain AS (
           SELECT day, streak FROM check_in WHERE member_id = $1 AND day = $2
           UNION ALL
           SELECT c.day, chain.streak + 1 FROM check_in c JOIN chain ON c.member_id = $1 AND c.day = chain.day + 1
         )
         UPDATE check_in c SET streak = chain.streak FROM chain WHERE c.member_id = $1 AND c.day = chain.day AND c.streak <> chain.streak`,
        [memberId, day],
      );
      return { date: day, streak: inserted.streak, reward: { points: 0, couponName: null }, pointsBalance: await this.points.balance(tx, memberId) };
    });
  }

  private async spendMakeUp(tx: Ctx, memberId: string, day: string, costPoints: number): Promise<void> {
    const used = await this.db.rows(tx, 'UPDATE check_in_card SET cards = cards - 1 WHERE member_id = $1 AND cards > 0 RETURNING cards', [memberId]);
    if (used.length) return;
    if (costPoints === 0) throw conflict('no_make_up_card', 'No make-up card left');
    try {
      await this.points.debit(tx, memberId, costPoints, `check-in-make-up:${memberId}:${day}`, `补签 ${day}`);
    } catch (err) {
      if ((err as { code?: string }).code === 'insufficient_points') {
        throw conflict('no_make_up_card', `No make-up card left, and making up costs ${costPoints} points`);
      }
      throw err;
    }
  }

  /** The month's calendar; without `month`, the current Shanghai month. */
  async month(ctx: Ctx, memberId: string, month: string | undefined, now = this.clock()): Promise<MonthView> {
    month ??= shanghaiDay(now).slice(0, 7);
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw invalid('invalid_month', 'month must be YYYY-MM');
    const today = shanghaiDay(now);
    const first = `${month}-01`;
    const next = `${addDays(first, 31).slice(0, 7)}-01`; // the 1st of the following month
    const rows: Array<{ day: string; made_up: boolean }> = await this.db.rows(
      ctx,
      "SELECT to_char(day, 'YYYY-MM-DD') AS day, made_up FROM check_in WHERE member_id = $1 AND day >= $2 AND day < $3",
      [memberId, first, next],
    );
    const byDay = new Map(rows.map((r) => [r.day, r.made_up]));
    const days: MonthView['days'] = [];
    for (let d = first; d < next; d = addDays(d, 1)) days.push({ date: d, checkedIn: byDay.has(d), madeUp: byDay.get(d) ?? false });
    const [last] = await this.db.rows(
      ctx,
      "SELECT to_char(day, 'YYYY-MM-DD') AS day, streak FROM check_in WHERE member_id = $1 AND day IN ($2, $3) ORDER BY day DESC LIMIT 1",
      [memberId, today, addDays(today, -1)],
    );
    const [cards] = await this.db.rows(ctx, 'SELECT cards FROM check_in_card WHERE member_id = $1', [memberId]);
    const rules = await this.rules(ctx);
    return {
      month,
      today,
      todayCheckedIn: last?.day === today,
      streak: last?.streak ?? 0,
      makeUpCards: cards?.cards ?? 0,
      days,
      rules: { basePoints: rules.basePoints, day7Bonus: rules.day7Bonus, day30Bonus: rules.day30Bonus, makeUpCostPoints: rules.makeUpCostPoints },
    };
  }

  /** After wx.requestSubscribeMessage: each acceptance allows one reminder. */
  async setReminder(ctx: Ctx, memberId: string, mpOpenid: string, accepted: boolean): Promise<void> {
    if (!accepted) {
      await this.db.rows(ctx, 'UPDATE check_in_reminder SET remaining = 0 WHERE member_id = $1', [memberId]);
      return;
    }
    await this.db.rows(ctx, `INSERT INTO check_in_reminder (member_id, mp_openid, remaining) VALUES ($1, $2, 1)
       ON CONFLICT (member_id) DO UPDATE SET mp_openid = EXCLUDED.mp_openid, remaining = LEAST(check_in_reminder.remaining + 1, 31)`,
      [memberId, mpOpenid],
    );
  }

  /**
   * The daily reminder (scheduled in the evening reading window): members who asked for it and have not checked
   * in today get one subscription message each, which uses up one acceptance.
   */
  async sendDailyReminders(ctx: Ctx, now = this.clock()): Promise<{ sent: number; failed: number }> {
    const rules = await this.rules(ctx);
    if (!rules.reminderTemplateId) return { sent: 0, failed: 0 };
    const today = shanghaiDay(now);
    const due = await this.db.rows<{ member_id: string; mp_openid: string; streak: number | null }>(
      ctx,
      `UPDATE check_in_reminder r SET remaining = remaining - 1, last_sent_day = $1
       WHERE remaining > 0 AND (last_sent_day IS NULL OR last_sent_day < $1)
         AND NOT EXISTS (SELECT 1 FROM check_in c WHERE c.member_id = r.member_id AND c.day = $1)
       RETURNING member_id, mp_openid,
         (SELECT streak FROM check_in c WHERE c.member_id = r.member_id AND c.day = $2) AS streak`,
      [today, addDays(today, -1)],
    );
    let sent = 0;
    let failed = 0;
    for (const m of due) {
      try {
        await this.reminders.sendCheckInReminder(m.mp_openid, rules.reminderTemplateId, m.streak ?? 0);
        sent++;
      } catch {
        failed++; // refused (43101) or out of quota: the acceptance is spent either way, as WeChat counts it
      }
    }
    return { sent, failed };
  }
}
