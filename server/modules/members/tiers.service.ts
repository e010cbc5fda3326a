import type { Ctx, Db } from '../../infra/db';
import { invalid } from '../../infra/errors';
import type { JobQueue } from '../../infra/queue';

export interface TierPerks {
  freeShipping: boolean;
  discountPercent: number;
  pointsMultiplier: number;
  birthdayGift: boolean;
}

export interface TierDefinition {
  code: string;
  name: string;
  rank: number;
  /** Reached with this much spend over the last 12 months (fen)… */
  minSpend12mFen: number;
  /** …or this many purchases over the last 12 months. 0 on both: everyone qualifies. */
  minOrders12m: number;
  perks: TierPerks;
}

export interface TierChangeEvent {
  memberId: string;
  fromTier: string | null;
  toTier: string;
  direction: 'up' | 'down';
  reason: string;
}

export const TIER_CHANGED_JOB = 'members.tier-changed';

export const LIFECYCLES = ['active', 'sleeping', 'pre_churn', 'churned', 'never'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

/** Lifecycle from the last purchase on any channel, computed when read so it never goes stale. */
export const LIFECYCLE_SQL = (m: string) => `CASE
  WHEN ${m}.last_purchase_at IS NULL THEN 'never'
  WHEN ${m}.last_purchase_at > now() - interval '3 months' THEN 'active'
  WHEN ${m}.last_purchase_at > now() - interval '6 months' THEN 'sleeping'
  WHEN ${m}.last_purchase_at > now() - interval '12 months' THEN 'pre_churn'
  ELSE 'churned' END`;

/** Recency / frequency / monetary scores 0–5 on fixed bands (0 = never bought). */
export const RFM_SQL = (m: string) => `
  CASE WHEN ${m}.last_purchase_at IS NULL THEN 0
       WHEN ${m}.last_purchase_at > now() - interval '30 days' THEN 5
       WHEN ${m}.last_purchase_at > now() - interval '90 days' THEN 4
       WHEN ${m}.last_purchase_at > now() - interval '180 days' THEN 3
       WHEN ${m}.last_purchase_at > now() - interval '365 days' THEN 2 ELSE 1 END AS rfm_r,
  CASE WHEN ${m}.orders_12m >= 10 THEN 5 WHEN ${m}.orders_12m >= 5 THEN 4 WHEN ${m}.orders_12m >= 3 THEN 3
       WHEN ${m}.orders_12m >= 2 THEN 2 WHEN ${m}.orders_12m >= 1 THEN 1 ELSE 0 END AS rfm_f,
  CASE WHEN ${m}.spend_12m_fen >= 500000 THEN 5 WHEN ${m}.spend_12m_fen >= 200000 THEN 4 WHEN ${m}.spend_12m_fen >= 50000 THEN 3
       WHEN ${m}.spend_12m_fen >= 10000 THEN 2 WHEN ${m}.spend_12m_fen > 0 THEN 1 ELSE 0 END AS rfm_m`;

/** Member tiers: configurable thresholds and perks, recomputed set-based, with every change recorded and queued. */
export class TiersService {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
  ) {}

  async list(ctx: Ctx): Promise<TierDefinition[]> {
    const rows = (await this.db.rows(ctx, 'SELECT * FROM tier_definition ORDER BY rank')) as Array<{
      code: string;
      name: string;
      rank: number;
      min_spend_12m_fen: string;
      min_orders_12m: number;
      perks: TierPerks;
    }>;
    return rows.map((r) => ({
      code: r.code,
      name: r.name,
      rank: r.rank,
      minSpend12mFen: Number(r.min_spend_12m_fen),
      minOrders12m: r.min_orders_12m,
      perks: r.perks,
    }));
  }

  /**
   * Replaces the tier table. The lowest tier must need nothing; codes still held by members must remain.
   * Every member is recomputed afterwards.
   */
  async replace(ctx: Ctx, tiers: TierDefinition[]): Promise<TierDefinition[]> {
    const sorted = [...tiers].sort((a, b) => a.rank - b.rank);
    if (sorted.length === 0 || sorted[0]!.minSpend12mFen !== 0 || sorted[0]!.minOrders12m !== 0) {
      throw invalid('invalid_tiers', 'The lowest tier must have no threshold (everyone qualifies)');
    }
    if (new Set(sorted.map((t) => t.code)).size !== sorted.length || new Set(sorted.map((t) => t.rank)).size !== sorted.length) {
      throw invalid('invalid_tiers', 'Tier codes and ranks must be unique');
    }
    await this.db.transaction(ctx, async (tx) => {
      await this.db.rows(tx, 'UPDATE tier_definition SET rank = rank + 100000');
      for (const t of sorted) {
        await this.db.rows(
          tx,
          `INSERT INTO tier_definition (code, name, rank, min_spend_12m_fen, min_orders_12m, perks, updated_at) VALUES ($1, $2, $3, $4, $5, $6, now())
           ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, rank = EXCLUDED.rank, min_spend_12m_fen = EXCLUDED.min_spend_12m_fen,
             min_orders_12m = EXCLUDED.min_orders_12m, perks = EXCLUDED.perks, updated_at = now()`,
          [t.code, t.name, t.rank, t.minSpend12mFen, t.minOrders12m, t.perks],
        );
      }
      const stale = (await this.db.rows(tx, 'SELECT code FROM tier_definition WHERE NOT (code = ANY($1::text[]))', [sorted.map((t) => t.code)])) as Array<{ code: string }>;
      if (stale.length) {
        // Members on a removed tier drop to the lowest one first; the recompute below then places them properly.
        await this.db.rows(tx, 'UPDATE member SET tier_code = $1 WHERE tier_code = ANY($2::text[])', [sorted[0]!.code, stale.map((s) => s.code)]);
        await this.db.rows(tx, 'DELETE FROM tier_definition WHERE code = ANY($1::text[])', [stale.map((s) => s.code)]);
      }
    });
    await this.recompute(ctx, 'all', 'tier rules changed');
    return this.list(ctx);
  }

  /**
   * Recomputes purchase statistics and tier of the given members (or all) from their orders on every channel.
   * Closed orders and refunds count through `sales_order.spend_fen`. Changes are recorded and queued as events.
   */
  async recompute(ctx: Ctx, memberIds: string[] | 'all', reason: string): Promise<TierChangeEvent[]> {
    const all = memberIds === 'all';
    const changes = await this.db.transaction(ctx, async (tx) => {
      const rows = (await this.db.rows(tx, `WITH stats AS (
           SELECT m.id,
                  min(coalesce(o.paid_at, o.ordered_at)) FILTER (WHERE o.spend_fen > 0) AS first_at,
                  max(coalesce(o.paid_at, o.ordered_at)) FILTER (WHERE o.spend_fen > 0) AS last_at,
                  count(o.id) FILTER (WHERE o.spend_fen > 0 AND coalesce(o.paid_at, o.ordered_at) > now() - interval '12 months') AS orders_12m,
                  coalesce(sum(o.spend_fen) FILTER (WHERE coalesce(o.paid_at, o.ordered_at) > now() - interval '12 months'), 0) AS spend_12m,
                  count(o.id) FILTER (WHERE o.spend_fen > 0) AS orders_total,
                  coalesce(sum(o.spend_fen), 0) AS spend_total
             FROM member m LEFT JOIN sales_order o ON o.member_id = m.id
            WHERE m.status = 'active' AND ($1::boolean OR m.id = ANY($2::uuid[]))
            GROUP BY m.id),
         target AS (
           SELECT s.*, (SELECT d.code FROM tier_definition d
                         WHERE (d.min_spend_12m_fen = 0 AND d.min_orders_12m = 0)
                            OR (d.min_spend_12m_fen > 0 AND s.spend_12m >= d.min_spend_12m_fen)
                            OR (d.min_orders_12m > 0 AND s.orders_12m >= d.min_orders_12m)
                         ORDER BY d.rank DESC LIMIT 1) AS tier
             FROM stats s),
         upd AS (
           UPDATE member m SET first_purchase_at = t.first_at, last_purchase_at = t.last_at, orders_12m = t.orders_12m,
                  spend_12m_fen = t.spend_12m, orders_total = t.orders_total, spend_total_fen = t.spend_total, stats_at = now(),
                  tier_code = t.tier, tier_since = CASE WHEN old.tier_code IS DISTINCT FROM t.tier THEN now() ELSE old.tier_since END
             FROM target t, member old
            WHERE m.id = t.id AND old.id = m.id
           RETURNING m.id, old.tier_code AS from_tier, m.tier_code AS to_tier)
         SELECT u.id, u.from_tier, u.to_tier, fd.rank AS from_rank, td.rank AS to_rank
           FROM upd u LEFT JOIN tier_definition fd ON fd.code = u.from_tier JOIN tier_definition td ON td.code = u.to_tier
          WHERE u.from_tier IS DISTINCT FROM u.to_tier`,
        [all, all ? [] : memberIds],
      )) as Array<{ id: string; from_tier: string | null; to_tier: string; from_rank: number | null; to_rank: number }>;
      const events: TierChangeEvent[] = rows.map((r) => ({
        memberId: r.id,
        fromTier: r.from_tier,
        toTier: r.to_tier,
        direction: r.from_rank === null || r.to_rank > r.from_rank ? 'up' : 'down',
        reason,
      }));
      if (events.length) {
        await this.db.rows(tx, `INSERT INTO tier_change (member_id, from_tier, to_tier, direction, reason)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])`,
          [events.map((e) => e.memberId), events.map((e) => e.fromTier), events.map((e) => e.toTier), events.map((e) => e.direction), events.map((e) => e.reason)],
        );
        // Notification event for the messaging module; queued in this transaction so it exists only if the change does.
        for (const e of events) await this.queue.send(tx, TIER_CHANGED_JOB, e);
      }
      return events;
    });
    return changes;
  }

  async history(ctx: Ctx, memberId: string): Promise<Array<{ fromTier: string | null; toTier: string; direction: string; reason: string; at: string }>> {
    const rows = (await this.db.rows(ctx, 'SELECT from_tier, to_tier, direction, reason, created_at FROM tier_change WHERE member_id = $1 ORDER BY id DESC LIMIT 100',
      [memberId],
    )) as Array<{ from_tier: string | null; to_tier: string; direction: string; reason: string; created_at: Date }>;
    return rows.map((r) => ({ fromTier: r.from_tier, toTier: r.to_tier, direction: r.direction, reason: r.reason, at: new Date(r.created_at).toISOString() }));
  }
}
