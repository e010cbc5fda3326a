import type { Ctx, Db } from '../../infra/db';
import { notFound } from '../../infra/errors';
import type { PointsService } from '../points/points.service';
import { LIFECYCLE_SQL, RFM_SQL, type Lifecycle, type TierPerks, type TiersService } from './tiers.service';
import type { MembersService } from './members.service';
import { maskAddress, maskOpaqueId } from './member-identity';
import { avatarPath } from './member-profile.service';

export interface MemberFilter {
  /** The member code from the card (an exact match). */
  code?: string;
  tier?: string;
  lifecycle?: Lifecycle;
  channelId?: string;
  tag?: string;
  /** 12-month spend range, fen. */
  minSpendFen?: number;
  maxSpendFen?: number;
  /** Has a Taobao buyer bound (true) or not (false). */
  bound?: boolean;
  limit: number;
  offset: number;
}

export interface MemberSummary {
  id: string;
  /** The short member code on the member's card (10 digits). */
  memberCode: string;
  nickname: string | null;
  tier: string;
  lifecycle: Lifecycle;
  rfm: { r: number; f: number; m: number };
  spend12mFen: number;
  orders12m: number;
  spendTotalFen: number;
  lastPurchaseAt: string | null;
  pointsBalance: number;
  bound: boolean;
  tags: string[];
  createdAt: string;
}

interface SummaryRow {
  id: string;
  code: string;
  nickname: string | null;
  tier_code: string;
  lifecycle: Lifecycle;
  rfm_r: number;
  rfm_f: number;
  rfm_m: number;
  spend_12m_fen: string;
  orders_12m: number;
  spend_total_fen: string;
  last_purchase_at: Date | null;
  balance: string | null;
  bound: boolean;
  tags: string[];
  created_at: Date;
}

const SUMMARY_SELECT = `m.id, m.code, m.nickname, m.tier_code, ${LIFECYCLE_SQL('m')} AS lifecycle, ${RFM_SQL('m')},
  m.spend_12m_fen, m.orders_12m, m.spend_total_fen, m.last_purchase_at, m.tags, m.created_at,
  EXISTS (SELECT 1 FROM member_identity b WHERE b.member_id = m.id AND b.kind = 'taobao_buyer') AS bound`;

/** Read side for the console and the mini-program member card: segments, detail, card. */
export class MemberQueryService {
  constructor(
    private readonly db: Db,
    private readonly members: MembersService,
    private readonly points: PointsService,
    private readonly tiers: TiersService,
  ) {}

  async list(ctx: Ctx, f: MemberFilter): Promise<{ total: number; items: MemberSummary[] }> {
    const where: string[] = ["m.status = 'active'"];
    const values: unknown[] = [];
    const add = (sql: (p: string) => string, v: unknown) => {
      values.push(v);
      where.push(sql(`$${values.length}`));
    };
    if (f.code) add((p) => `m.code = ${p}`, f.code);
    if (f.tier) add((p) => `m.tier_code = ${p}`, f.tier);
    if (f.lifecycle) add((p) => `(${LIFECYCLE_SQL('m')}) = ${p}`, f.lifecycle);
    if (f.channelId) {
      add(
        (p) => `(EXISTS (SELECT 1 FROM sales_order o WHERE o.member_id = m.id AND o.channel_id = ${p}::uuid)
                 OR EXISTS (SELECT 1 FROM member_identity i WHERE i.member_id = m.id AND i.channel_id = ${p}::uuid))`,
        f.channelId,
      );
    }
    if (f.tag) add((p) => `m.tags @> ARRAY[${p}]::text[]`, f.tag);
    if (f.minSpendFen !== undefined) add((p) => `m.spend_12m_fen >= ${p}`, f.minSpendFen);
    if (f.maxSpendFen !== undefined) add((p) => `m.spend_12m_fen <= ${p}`, f.maxSpendFen);
    if (f.bound !== undefined) {
      where.push(`${f.bound ? '' : 'NOT '}EXISTS (SELECT 1 FROM member_identity b WHERE b.member_id = m.id AND b.kind = 'taobao_buyer')`);
    }
    const [count] = (await this.db.rows(ctx, `SELECT count(*) AS n FROM member m WHERE ${where.join(' AND ')}`, values)) as Array<{ n: string }>;
    const rows = (await this.db.rows(
      ctx,
      `SELECT ${SUMMARY_SELECT} FROM member m
        WHERE ${where.join(' AND ')} ORDER BY m.created_at DESC, m.id LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
      [...values, f.limit, f.offset],
    )) as SummaryRow[];
    // Balances are the points ledger's: asked of it for the page.
    const balances = await this.points.balances(ctx, rows.map((r) => r.id));
    return { total: Number(count!.n), items: rows.map((r) => toSummary({ ...r, balance: String(balances.get(r.id) ?? 0) })) };
  }

  /** Member detail for staff: identities masked, orders with masked receiver data, points and tier history, audit. */
  async detail(ctx: Ctx, memberId: string) {
    const id = await this.members.resolve(ctx, memberId);
    const [row] = (await this.db.rows(
      ctx,
      `SELECT ${SUMMARY_SELECT}, m.gender, to_char(m.birthday, 'YYYY-MM-DD') AS birthday, m.region, m.notes
         FROM member m WHERE m.id = $1`,
      [id],
    )) as Array<SummaryRow & { gender: string | null; birthday: string | null; region: string | null; notes: string | null }>;
    if (!row) throw notFound('member_not_found', 'No member with that id');
    row.balance = String(await this.points.balance(ctx, id));
    const identities = (await this.db.rows(
      ctx,
      `SELECT i.kind, i.value, i.display, c.kind AS channel_kind, c.name AS channel_name, i.created_at
         FROM member_identity i LEFT JOIN sales_channel c ON c.id = i.channel_id WHERE i.member_id = $1 ORDER BY i.created_at`,
      [id],
    )) as Array<{ kind: string; value: string; display: string | null; channel_kind: string | null; channel_name: string | null; created_at: Date }>;
    const orders = (await this.db.rows(
      ctx,
      `SELECT o.id, o.order_no, c.kind AS channel_kind, c.name AS channel_name, o.state, o.status_text, o.total_fen, o.paid_fen,
              o.refund_fen, o.spend_fen, o.ordered_at, o.paid_at, o.item_title, o.item_count, o.receiver_name, o.receiver_address, o.receiver_phone
         FROM sales_order o JOIN sales_channel c ON c.id = o.channel_id WHERE o.member_id = $1
        ORDER BY o.ordered_at DESC NULLS LAST LIMIT 100`,
      [id],
    )) as Array<Record<string, unknown> & { ordered_at: Date | null; paid_at: Date | null; receiver_address: string | null }>;
    const audit = (await this.db.rows(ctx, 'SELECT action, actor, details, created_at FROM member_audit WHERE member_id = $1 ORDER BY id DESC LIMIT 100', [id])) as Array<{
      action: string;
      actor: string;
      details: Record<string, unknown>;
      created_at: Date;
    }>;
    return {
      ...toSummary(row),
      gender: row.gender,
      birthday: row.birthday,
      region: row.region,
      notes: row.notes,
      identities: identities.map((i) => ({
        kind: i.kind,
        // Openids are opaque but still personal; phones are only ever stored hashed, displayed masked.
        value: i.kind === 'phone' || i.kind === 'taobao_buyer' ? (i.display ?? '****') : maskOpaqueId(i.value),
        channel: i.channel_kind ? { kind: i.channel_kind, name: i.channel_name } : null,
        since: new Date(i.created_at).toISOString(),
      })),
      orders: orders.map((o) => ({
        id: String(o.id),
        orderNo: String(o.order_no),
        channel: { kind: String(o.channel_kind), name: String(o.channel_name) },
        state: String(o.state),
        statusText: (o.status_text as string | null) ?? null,
        totalFen: Number(o.total_fen),
        paidFen: Number(o.paid_fen),
        refundFen: Number(o.refund_fen),
        spendFen: Number(o.spend_fen),
        orderedAt: o.ordered_at ? new Date(o.ordered_at).toISOString() : null,
        paidAt: o.paid_at ? new Date(o.paid_at).toISOString() : null,
        itemTitle: (o.item_title as string | null) ?? null,
        itemCount: (o.item_count as number | null) ?? null,
        receiverName: (o.receiver_name as string | null) ?? null,
        receiverAddress: maskAddress(o.receiver_address),
        receiverPhone: (o.receiver_phone as string | null) ?? null,
      })),
      points: await this.points.history(ctx, id, 100),
      tierHistory: await this.tiers.history(ctx, id),
      audit: audit.map((a) => ({ action: a.action, actor: a.actor, details: a.details, at: new Date(a.created_at).toISOString() })),
    };
  }

  /** The member card (mini-program): tier and perks, progress to the next tier, balance, points about to expire. */
  async card(ctx: Ctx, memberId: string) {
    const id = await this.members.resolve(ctx, memberId);
    const [m] = (await this.db.rows(ctx, `SELECT m.tier_code, m.tier_since, m.spend_12m_fen, m.orders_12m, ${LIFECYCLE_SQL('m')} AS lifecycle FROM member m WHERE m.id = $1`,
      [id],
    )) as Array<{ tier_code: string; tier_since: Date; spend_12m_fen: string; orders_12m: number; lifecycle: Lifecycle }>;
    const tiers = await this.tiers.list(ctx);
    const current = tiers.find((t) => t.code === m!.tier_code)!;
    const next = tiers.find((t) => t.rank > current.rank);
    const spend = Number(m!.spend_12m_fen);
    return {
      memberId: id,
      tier: { code: current.code, name: current.name, since: new Date(m!.tier_since).toISOString(), perks: current.perks as TierPerks },
      nextTier: next
        ? {
            code: next.code,
            name: next.name,
            spendNeededFen: next.minSpend12mFen > 0 ? Math.max(next.minSpend12mFen - spend, 0) : null,
            ordersNeeded: next.minOrders12m > 0 ? Math.max(next.minOrders12m - m!.orders_12m, 0) : null,
          }
        : null,
      spend12mFen: spend,
      orders12m: m!.orders_12m,
      lifecycle: m!.lifecycle,
      points: { balance: await this.points.balance(ctx, id), expiringSoon: await this.points.expiringSoon(ctx, id) },
    };
  }

  /** Orders by their numbers, unbound first, then in the order asked (the sandbox's demo hints). */
  async byNumbers(ctx: Ctx, orderNos: readonly string[]): Promise<Array<{ orderNo: string; phoneLast4: string; buyerNick: string; totalFen: number; bound: boolean }>> {
    const rows = await this.db.rows<{ order_no: string; phone_last4: string; buyer_nick: string; total_fen: number; bound: boolean }>(
      ctx,
      `SELECT order_no, phone_last4, buyer_nick, total_fen::int AS total_fen, member_id IS NOT NULL AS bound
         FROM sales_order WHERE order_no = ANY($1) AND erased_at IS NULL
        ORDER BY (member_id IS NOT NULL), array_position($1, order_no)`,
      [orderNos],
    );
    return rows.map((o) => ({ orderNo: o.order_no, phoneLast4: o.phone_last4, buyerNick: o.buyer_nick, totalFen: o.total_fen, bound: o.bound }));
  }

  /** The sales channels with their order counts. */
  async channels(ctx: Ctx): Promise<Array<{ id: string; kind: string; name: string; orders: number }>> {
    return this.db.rows(
      ctx,
      `SELECT c.id, c.kind, c.name, (SELECT count(*) FROM sales_order o WHERE o.channel_id = c.id)::int AS orders
         FROM sales_channel c ORDER BY c.kind, c.name`,
    );
  }

  /** One identity of the member (its mini-program openid, say), or null. */
  async identityOf(ctx: Ctx, memberId: string, kind: 'oa_openid' | 'mp_openid' | 'unionid'): Promise<string | null> {
    const id = await this.members.resolve(ctx, memberId);
    const [row] = (await this.db.rows(ctx, 'SELECT value FROM member_identity WHERE member_id = $1 AND kind = $2 ORDER BY created_at LIMIT 1', [
      id,
      kind,
    ])) as Array<{ value: string }>;
    return row?.value ?? null;
  }

  /** Every identity of one kind the member holds (all its Official Account openids, say); the id as given. */
  async identitiesOf(ctx: Ctx, memberId: string, kind: 'oa_openid' | 'mp_openid' | 'unionid'): Promise<string[]> {
    const rows = await this.db.rows<{ value: string }>(ctx, 'SELECT value FROM member_identity WHERE member_id = $1 AND kind = $2 ORDER BY created_at', [memberId, kind]);
    return rows.map((r) => r.value);
  }

  /** A Taobao order of this member (bound through its buyer), or null when it is not theirs. */
  async boundOrder(ctx: Ctx, memberId: string, orderNo: string): Promise<{ channelId: string; orderNo: string; completed: boolean } | null> {
    const id = await this.members.resolve(ctx, memberId);
    const [row] = (await this.db.rows(ctx, "SELECT channel_id, order_no, state FROM sales_order WHERE order_no = $1 AND member_id = $2 AND erased_at IS NULL ORDER BY updated_at DESC LIMIT 1",
      [orderNo, id],
    )) as Array<{ channel_id: string; order_no: string; state: string }>;
    return row ? { channelId: row.channel_id, orderNo: row.order_no, completed: row.state === 'completed' } : null;
  }

  /** Which of these members are linked to a Taobao buyer. */
  async boundMemberIds(ctx: Ctx, memberIds: readonly string[]): Promise<Set<string>> {
    const rows = (await this.db.rows(ctx, "SELECT DISTINCT member_id FROM member_identity WHERE kind = 'taobao_buyer' AND member_id = ANY($1::uuid[])",
      [memberIds],
    )) as Array<{ member_id: string }>;
    return new Set(rows.map((r) => r.member_id));
  }

  /**
   * What other members may see of these members (a gift box's helpers): nickname and avatar only, with when each
   * first came (a campaign's "new members"). A merged id answers as its survivor (`id`); unknown and erased ids are absent.
   */
  async publicProfiles(ctx: Ctx, memberIds: readonly string[]): Promise<Map<string, { id: string; nickname: string | null; avatarUrl: string | null; joinedAt: Date }>> {
    if (memberIds.length === 0) return new Map();
    const rows = await this.db.rows<{ asked: string; id: string; nickname: string | null; avatar: string | null; created_at: Date }>(
      ctx,
      `SELECT q.id AS asked, s.id, s.nickname, a.token AS avatar, s.created_at
         FROM member q JOIN member s ON s.id = coalesce(q.merged_into, q.id)
         LEFT JOIN member_avatar a ON a.member_id = s.id
        WHERE q.id = ANY($1::uuid[]) AND s.status = 'active'`,
      [memberIds],
    );
    return new Map(rows.map((r) => [r.asked, { id: r.id, nickname: r.nickname, avatarUrl: r.avatar ? avatarPath(r.avatar) : null, joinedAt: new Date(r.created_at) }]));
  }

  /** The member card as the mini-program shows it (miniprogram/API.md, MemberCard). */
  async mpCard(ctx: Ctx, memberId: string) {
    const card = await this.card(ctx, memberId);
    const id = card.memberId;
    const [m] = (await this.db.rows(ctx, 'SELECT m.nickname, m.code, a.token AS avatar FROM member m LEFT JOIN member_avatar a ON a.member_id = m.id WHERE m.id = $1', [
      id,
    ])) as Array<{ nickname: string | null; code: string; avatar: string | null }>;
    const [buyer] = (await this.db.rows(
      ctx,
      `SELECT i.display, c.name AS channel_name, (SELECT count(*)::int FROM sales_order o WHERE o.member_id = $1) AS orders
         FROM member_identity i LEFT JOIN sales_channel c ON c.id = i.channel_id
        WHERE i.member_id = $1 AND i.kind = 'taobao_buyer' ORDER BY i.created_at LIMIT 1`,
      [id],
    )) as Array<{ display: string | null; channel_name: string | null; orders: number }>;
    const expiring = card.points.expiringSoon[0];
    return {
      id,
      nickname: m?.nickname ?? null,
      avatarUrl: m?.avatar ? avatarPath(m.avatar) : null,
      tier: { code: card.tier.code, name: card.tier.name, perks: card.tier.perks },
      pointsBalance: card.points.balance,
      expiringPoints: expiring ? { points: expiring.amount, expiresAt: expiring.expiresAt } : null,
      taobaoBuyer: buyer ? { nickMasked: buyer.display ?? '淘宝买家', channelName: buyer.channel_name ?? '淘宝', ordersCount: buyer.orders } : null,
      memberCode: m!.code,
    };
  }
}

function toSummary(r: SummaryRow): MemberSummary {
  return {
    id: r.id,
    memberCode: r.code,
    nickname: r.nickname,
    tier: r.tier_code,
    lifecycle: r.lifecycle,
    rfm: { r: r.rfm_r, f: r.rfm_f, m: r.rfm_m },
    spend12mFen: Number(r.spend_12m_fen),
    orders12m: r.orders_12m,
    spendTotalFen: Number(r.spend_total_fen),
    lastPurchaseAt: r.last_purchase_at ? new Date(r.last_purchase_at).toISOString() : null,
    pointsBalance: Number(r.balance ?? 0),
    bound: r.bound,
    tags: r.tags,
    createdAt: new Date(r.created_at).toISOString(),
  };
}
