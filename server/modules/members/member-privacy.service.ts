import type { Ctx, Db } from '../../infra/db';
import { conflict } from '../../infra/errors';
import type { PointsService } from '../points/points.service';
import type { MembersService } from './members.service';
import type { TiersService } from './tiers.service';

/**
 * Personal information law: a member's data exported as JSON, and erased on request. Erasure removes identities and
 * profile, anonymises orders' personal fields and keeps amounts, dates and ledger rows under the now-anonymous
 * member so totals and the ledger audit still add up. Both are audited.
 */
export class MemberPrivacyService {
  constructor(
    private readonly db: Db,
    private readonly members: MembersService,
    private readonly points: PointsService,
    private readonly tiers: TiersService,
  ) {}

  async exportData(ctx: Ctx, memberId: string, actor: string): Promise<Record<string, unknown>> {
    const id = await this.members.resolve(ctx, memberId);
    const em = this.db.em(ctx);
    const [member] = (await em.query(
      `SELECT id, nickname, gender, to_char(birthday, 'YYYY-MM-DD') AS birthday, region, tags, notes, tier_code, created_at
         FROM member WHERE id = $1`,
      [id],
    )) as Array<Record<string, unknown>>;
    const identities = (await em.query(
      `SELECT i.kind, CASE WHEN i.kind = 'phone' THEN i.display ELSE coalesce(i.display, i.value) END AS value,
              CASE WHEN i.kind = 'phone' THEN 'stored only as a keyed hash' END AS note, c.name AS channel, i.created_at
         FROM member_identity i LEFT JOIN sales_channel c ON c.id = i.channel_id WHERE i.member_id = $1 ORDER BY i.created_at`,
      [id],
    )) as unknown[];
    const orders = (await em.query(
      `SELECT c.kind AS channel_kind, c.name AS channel, o.order_no, o.status_text, o.total_fen, o.paid_fen, o.refund_fen,
              o.ordered_at, o.paid_at, o.item_title, o.item_count, o.items, o.buyer_nick, o.receiver_name, o.receiver_address,
              o.receiver_phone, o.buyer_message, sales_order_extra(o.extra, o.import_id) AS report_columns
         FROM sales_order o JOIN sales_channel c ON c.id = o.channel_id WHERE o.member_id = $1 ORDER BY o.ordered_at`,
      [id],
    )) as unknown[];
    const points = await this.points.history(ctx, id, 10_000);
    const tierHistory = await this.tiers.history(ctx, id);
    await this.members.audit(ctx, id, 'export', actor, {});
    return {
      exportedAt: new Date().toISOString(),
      member,
      identities,
      orders,
      points: { balance: await this.points.balance(ctx, id), transactions: points },
      tierHistory,
    };
  }

  private readonly erasers: Array<{ name: string; erase: (ctx: Ctx, memberId: string) => Promise<void> }> = [];

  /**
   * Other modules' part of an erasure (followers and their messages, addresses, sessions, screenshots): each runs in
   * the erasure's transaction, so a member is erased everywhere or nowhere.
   */
  onErase(name: string, erase: (ctx: Ctx, memberId: string) => Promise<void>): void {
    this.erasers.push({ name, erase });
  }

  async erase(ctx: Ctx, memberId: string, opts: { actor: string; reason: string }): Promise<{ memberId: string; ordersAnonymised: number; pointsForfeited: number }> {
    const id = await this.members.resolve(ctx, memberId);
    // Remaining points are forfeited first (a ledger transaction of its own), so the anonymous member holds none.
    const balance = await this.points.balance(ctx, id);
    if (balance > 0) {
      await this.points.adjust(ctx, { memberId: id, delta: -balance, idempotencyKey: `erase:${id}:forfeit`, reason: 'forfeited on erasure', actor: opts.actor });
    }
    return this.db.transaction(ctx, async (tx) => {
      const em = this.db.em(tx);
      const [row] = (await em.query('SELECT status FROM member WHERE id = $1 FOR UPDATE', [id])) as Array<{ status: string }>;
      if (row?.status !== 'active') throw conflict('member_inactive', 'Member is not active');
      await em.query('DELETE FROM member_identity WHERE member_id = $1', [id]);
      await em.query(
        `UPDATE member SET status = 'erased', erased_at = now(), nickname = NULL, gender = NULL, birthday = NULL, region = NULL,
                tags = '{}', notes = NULL, updated_at = now() WHERE id = $1`,
        [id],
      );
      const [orders] = (await em.query(
        `WITH o AS (UPDATE sales_order SET buyer_key = NULL, buyer_nick = NULL, receiver_name = NULL, receiver_address = NULL,
                receiver_phone = NULL, phone_last4 = NULL, phone_hash = NULL, buyer_message = NULL, extra = '{}'::jsonb,
                erased_at = now(), updated_at = now()
          WHERE member_id = $1 RETURNING 1) SELECT count(*) AS n FROM o`,
        [id],
      )) as Array<{ n: string }>;
      for (const e of this.erasers) await e.erase(tx, id);
      await this.members.audit(tx, id, 'erase', opts.actor, {
        reason: opts.reason,
        ordersAnonymised: Number(orders!.n),
        pointsForfeited: balance,
        alsoErased: this.erasers.map((e) => e.name),
      });
      // Members merged into this one are the same person: their rows are anonymised too.
      await em.query(
        `UPDATE member SET nickname = NULL, gender = NULL, birthday = NULL, region = NULL, tags = '{}', notes = NULL, erased_at = now()
          WHERE merged_into = $1`,
        [id],
      );
      return { memberId: id, ordersAnonymised: Number(orders!.n), pointsForfeited: balance };
    });
  }
}
