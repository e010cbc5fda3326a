import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid, notFound } from '../../infra/errors';

export type BoxStatus = 'open' | 'unlocked' | 'rewarded' | 'expired';

/**
 * The box's life, as one table: a box is opened by its owner, unlocked by the last required help, rewarded once the
 * reward is posted, or expired when the campaign ends before it unlocks. Every status change below is a conditional
 * UPDATE whose WHERE is read from here, so no statement can move a box along an edge this table lacks.
 */
export const BOX_TRANSITIONS: Readonly<Record<BoxStatus, readonly BoxStatus[]>> = {
  open: ['unlocked', 'expired'],
  unlocked: ['rewarded'],
  rewarded: [],
  expired: [],
};

/** The statuses a box may leave for `to`. */
export function statusesBefore(to: BoxStatus): BoxStatus[] {
  return (Object.keys(BOX_TRANSITIONS) as BoxStatus[]).filter((from) => BOX_TRANSITIONS[from].includes(to));
}

/** The points ledger, as the gift box uses it: one credit per box, identified by its key. */
export interface GiftBoxPoints {
  credit(ctx: Ctx, memberId: string, points: number, idempotencyKey: string, reason: string): Promise<{ transactionId: string }>;
}

/** The member ledger, as the gift box reads it. */
export interface GiftBoxMembers {
  /**
   * Who these ids are now (a merged id answers as its survivor) with what others may see of them: nickname and
   * avatar only, and when they first came. Unknown and erased ids are absent.
   */
  profiles(ctx: Ctx, memberIds: readonly string[]): Promise<Map<string, { id: string; nickname: string | null; avatarUrl: string | null; joinedAt: Date }>>;
}

export interface CampaignInput {
  name: string;
  rules: string;
  helpsRequired: number;
  reward: { kind: 'points'; points: number };
  /** Rewards on offer: each box started reserves one (an expired box gives its back); null for no limit. */
  stock: number | null;
  startsAt: string;
  endsAt: string;
  boxesPerMember: number;
  helpsPerHelper: number;
  newMembersOnly: boolean;
}

export interface CampaignView extends CampaignInput {
  id: string;
  reserved: number;
  status: 'scheduled' | 'running' | 'ended';
  createdAt: string;
}

export interface BoxSummary {
  id: string;
  campaignId: string;
  status: BoxStatus;
  helpsRequired: number;
  helps: number;
}

export interface BoxView extends BoxSummary {
  campaignName: string;
  parentBoxId: string | null;
  helpers: Array<{ nickname: string | null; avatarUrl: string | null }>;
  reward: { kind: 'points'; points: number };
  rules: string;
  startsAt: string;
  endsAt: string;
  mine: boolean;
  helpedByMe: boolean;
  createdAt: string;
}

export interface TreeNode {
  id: string;
  /** Null for the box the tree was asked for. */
  parentBoxId: string | null;
  ownerMemberId: string;
  status: BoxStatus;
  helps: number;
  helpsRequired: number;
  depth: number;
  createdAt: string;
}

interface CampaignRow {
  id: string;
  name: string;
  rules: string;
  helps_required: number;
  reward_kind: 'points';
  reward_points: number;
  stock: number | null;
  reserved: number;
  starts_at: Date;
  ends_at: Date;
  boxes_per_member: number;
  helps_per_helper: number;
  new_members_only: boolean;
  created_at: Date;
}

interface BoxRow {
  id: string;
  campaign_id: string;
  owner_member_id: string;
  parent_box_id: string | null;
  status: BoxStatus;
  helps: number;
  helps_required: number;
  reward_points: number;
  created_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const iso = (d: Date) => new Date(d).toISOString();
const boxNotFound = () => notFound('box_not_found', 'No gift box with that id');

/** The reason the owner's points history shows for a box's reward. */
export const REWARD_REASON = '拆礼盒奖励';

/** The gift box: campaigns, boxes their owners share, the helps that unlock them and the reward, exactly once. */
export class GiftBoxService {
  constructor(
    private readonly db: Db,
    private readonly points: GiftBoxPoints,
    private readonly members: GiftBoxMembers,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async createCampaign(ctx: Ctx, input: CampaignInput, actor: string): Promise<CampaignView> {
    if (new Date(input.endsAt) <= new Date(input.startsAt)) throw invalid('ends_before_start', 'endsAt must be after startsAt');
    const [row] = await this.db.rows<CampaignRow>(
      ctx,
      `INSERT INTO gift_box_campaign (name, rules, helps_required, reward_kind, reward_points, stock, starts_at, ends_at, boxes_per_member, helps_per_helper, new_members_only, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
      [
        input.name,
        input.rules,
        input.helpsRequired,
        input.reward.kind,
        input.reward.points,
        input.stock,
        input.startsAt,
        input.endsAt,
        input.boxesPerMember,
        input.helpsPerHelper,
        input.newMembersOnly,
        actor,
      ],
    );
    return this.campaignView(row!);
  }

  async campaigns(ctx: Ctx): Promise<CampaignView[]> {
    const rows = await this.db.rows<CampaignRow>(ctx, 'SELECT * FROM gift_box_campaign ORDER BY starts_at DESC, created_at DESC');
    return rows.map((r) => this.campaignView(r));
  }

  async campaign(ctx: Ctx, id: string): Promise<CampaignView> {
    return this.campaignView(await this.campaignRow(ctx, id));
  }

  /** Starts the member's box (from a box they were shown: its parent in the tree). */
  async startBox(ctx: Ctx, memberId: string, input: { campaignId: string; parentBoxId?: string }, now = this.clock()): Promise<BoxSummary> {
    const c = await this.campaignRow(ctx, input.campaignId);
    if (now < new Date(c.starts_at)) throw conflict('campaign_not_started', 'The campaign has not started yet');
    if (now >= new Date(c.ends_at)) throw conflict('campaign_ended', 'The campaign has ended');
    if (input.parentBoxId !== undefined) {
      const [parent] = UUID.test(input.parentBoxId)
        ? await this.db.rows<{ campaign_id: string }>(ctx, 'SELECT campaign_id FROM gift_box WHERE id = $1', [input.parentBoxId])
        : [];
      if (!parent) throw notFound('parent_box_not_found', 'No gift box with that parentBoxId');
      if (parent.campaign_id !== c.id) throw invalid('parent_box_other_campaign', 'parentBoxId is a box of another campaign');
    }
    return this.db.transaction(ctx, async (tx) => {
      const [counted] = await this.db.rows(
        tx,
        `INSERT INTO gift_box_member (campaign_id, member_id, boxes) VALUES ($1, $2, 1)
         ON CONFLICT (campaign_id, member_id) DO UPDATE SET boxes = gift_box_member.boxes + 1 WHERE gift_box_member.boxes < $3
         RETURNING boxes`,
        [c.id, memberId, c.boxes_per_member],
      );
      if (!counted) throw conflict('box_limit_reached', `A member starts at most ${c.boxes_per_member} box(es) in this campaign`);
      if (c.stock !== null) {
        const [reserved] = await this.db.rows(tx, 'UPDATE gift_box_campaign SET reserved = reserved + 1 WHERE id = $1 AND reserved < stock RETURNING reserved', [c.id]);
        if (!reserved) throw conflict('out_of_stock', 'Every reward of this campaign is taken');
      }
      const [box] = await this.db.rows<BoxRow>(
        tx,
        `INSERT INTO gift_box (campaign_id, owner_member_id, parent_box_id, status, helps_required, reward_points)
         VALUES ($1, $2, $3, 'open', $4, $5) RETURNING *`,
        [c.id, memberId, input.parentBoxId ?? null, c.helps_required, c.reward_points],
      );
      return summary(box!);
    });
  }

  /**
   * A help, in one transaction: the (box, helper) row (its primary key refuses a second), the helper's count in the
   * campaign (a conditional upsert under the limit), then the box's helps (a conditional UPDATE under the required
   * number, on an open box). Any refusal rolls back all three, so exactly `helpsRequired` helps ever count. The help
   * that unlocks the box posts the reward in the same transaction, under the idempotency key of the box.
   */
  async help(ctx: Ctx, helperId: string, boxId: string, now = this.clock()): Promise<{ helps: number; status: BoxStatus }> {
    if (!UUID.test(boxId)) throw boxNotFound();
    const [box] = await this.db.rows<BoxRow & { starts_at: Date; ends_at: Date; helps_per_helper: number; new_members_only: boolean }>(
      ctx,
      `SELECT b.*, c.starts_at, c.ends_at, c.helps_per_helper, c.new_members_only
         FROM gift_box b JOIN gift_box_campaign c ON c.id = b.campaign_id WHERE b.id = $1`,
      [boxId],
    );
    if (!box) throw boxNotFound();
    if (box.status === 'open' && now >= new Date(box.ends_at)) await this.expireBox(ctx, box.id, now);
    if (box.status === 'expired' || now >= new Date(box.ends_at)) throw conflict('box_expired', 'The campaign has ended; this box can no longer be opened');
    // A full box is refused on this read (most taps of a crowd); the transaction below decides the last ones.
    if (box.status !== 'open' || box.helps >= box.helps_required) throw conflict('box_full', 'This box has all the helps it needs');
    // One person is one member: both ids as the member ledger knows them now (a merged id answers as its survivor).
    const people = await this.members.profiles(ctx, [helperId, box.owner_member_id]);
    const helper = people.get(helperId);
    if (!helper) throw notFound('member_not_found', 'No member with that id');
    const ownerNow = people.get(box.owner_member_id)?.id ?? box.owner_member_id;
    if (helper.id === ownerNow) throw conflict('own_box', 'The owner cannot help open their own box');
    const newMember = helper.joinedAt >= new Date(box.starts_at);
    if (box.new_members_only && !newMember) throw conflict('new_members_only', 'Only members who joined during the campaign can help');

    return this.db.transaction(ctx, async (tx) => {
      const [helped] = await this.db.rows(
        tx,
        'INSERT INTO gift_box_help (box_id, helper_member_id, campaign_id, new_member) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1',
        [box.id, helper.id, box.campaign_id, newMember],
      );
      if (!helped) throw conflict('already_helped', 'You have already helped open this box');
      const [counted] = await this.db.rows(
        tx,
        `INSERT INTO gift_box_member (campaign_id, member_id, helps) VALUES ($1, $2, 1)
         ON CONFLICT (campaign_id, member_id) DO UPDATE SET helps = gift_box_member.helps + 1 WHERE gift_box_member.helps < $3
         RETURNING helps`,
        [box.campaign_id, helper.id, box.helps_per_helper],
      );
      if (!counted) throw conflict('help_limit_reached', `A member helps at most ${box.helps_per_helper} box(es) in this campaign`);
      const [after] = await this.db.rows<{ helps: number; status: BoxStatus; reward_points: number }>(
        tx,
        `UPDATE gift_box SET helps = helps + 1,
                status = CASE WHEN helps + 1 = helps_required THEN 'unlocked' ELSE status END,
                unlocked_at = CASE WHEN helps + 1 = helps_required THEN $2::timestamptz END
          WHERE id = $1 AND status = ANY($3::text[]) AND helps < helps_required
          RETURNING helps, status, reward_points`,
        [box.id, now, statusesBefore('unlocked')],
      );
      if (!after) throw conflict('box_full', 'This box has all the helps it needs');
      if (after.status !== 'unlocked') return { helps: after.helps, status: after.status };
      const posted = await this.points.credit(tx, ownerNow, after.reward_points, `gift-box:${box.id}`, REWARD_REASON);
      const [rewarded] = await this.db.rows<{ status: BoxStatus }>(
        tx,
        `UPDATE gift_box SET status = 'rewarded', rewarded_at = $2, reward_transaction_id = $3
          WHERE id = $1 AND status = ANY($4::text[]) RETURNING status`,
        [box.id, now, posted.transactionId, statusesBefore('rewarded')],
      );
      return { helps: after.helps, status: rewarded!.status };
    });
  }

  /** The box as its page shows it, to its owner and to anyone it was shared with. */
  async box(ctx: Ctx, viewerId: string, boxId: string, now = this.clock()): Promise<BoxView> {
    if (!UUID.test(boxId)) throw boxNotFound();
    let [b] = await this.db.rows<BoxRow & { name: string; rules: string; starts_at: Date; ends_at: Date }>(
      ctx,
      'SELECT b.*, c.name, c.rules, c.starts_at, c.ends_at FROM gift_box b JOIN gift_box_campaign c ON c.id = b.campaign_id WHERE b.id = $1',
      [boxId],
    );
    if (!b) throw boxNotFound();
    if (b.status === 'open' && now >= new Date(b.ends_at)) {
      await this.expireBox(ctx, b.id, now);
      b = { ...b, status: 'expired' };
    }
    const helpers = await this.db.rows<{ helper_member_id: string }>(ctx, 'SELECT helper_member_id FROM gift_box_help WHERE box_id = $1 ORDER BY created_at, helper_member_id', [b.id]);
    const people = await this.members.profiles(ctx, [viewerId, ...helpers.map((h) => h.helper_member_id)]);
    const viewer = people.get(viewerId)?.id ?? viewerId;
    return {
      ...summary(b),
      campaignName: b.name,
      parentBoxId: b.parent_box_id,
      helpers: helpers.map((h) => {
        const p = people.get(h.helper_member_id);
        return { nickname: p?.nickname ?? null, avatarUrl: p?.avatarUrl ?? null };
      }),
      reward: { kind: 'points', points: b.reward_points },
      rules: b.rules,
      startsAt: iso(b.starts_at),
      endsAt: iso(b.ends_at),
      mine: b.owner_member_id === viewer,
      helpedByMe: helpers.some((h) => (people.get(h.helper_member_id)?.id ?? h.helper_member_id) === viewer),
      createdAt: iso(b.created_at),
    };
  }

  /** The member's boxes, newest first, with their progress. */
  async myBoxes(ctx: Ctx, memberId: string): Promise<Array<BoxSummary & { campaignName: string; endsAt: string; createdAt: string }>> {
    await this.expireEnded(ctx);
    const rows = await this.db.rows<BoxRow & { name: string; ends_at: Date }>(
      ctx,
      `SELECT b.*, c.name, c.ends_at FROM gift_box b JOIN gift_box_campaign c ON c.id = b.campaign_id
        WHERE b.owner_member_id = $1 ORDER BY b.created_at DESC LIMIT 100`,
      [memberId],
    );
    return rows.map((r) => ({ ...summary(r), campaignName: r.name, endsAt: iso(r.ends_at), createdAt: iso(r.created_at) }));
  }

  /** Open boxes of ended campaigns become expired, and give back the reward they had reserved. */
  async expireEnded(ctx: Ctx, now = this.clock()): Promise<number> {
    return this.db.transaction(ctx, async (tx) => {
      const gone = await this.db.rows<{ campaign_id: string }>(
        tx,
        `UPDATE gift_box b SET status = 'expired', expired_at = $1 FROM gift_box_campaign c
          WHERE c.id = b.campaign_id AND c.ends_at <= $1 AND b.status = ANY($2::text[])
          RETURNING b.campaign_id`,
        [now, statusesBefore('expired')],
      );
      await this.release(tx, gone.map((g) => g.campaign_id));
      return gone.length;
    });
  }

  private async expireBox(ctx: Ctx, boxId: string, now: Date): Promise<void> {
    await this.db.transaction(ctx, async (tx) => {
      const gone = await this.db.rows<{ campaign_id: string }>(
        tx,
        `UPDATE gift_box b SET status = 'expired', expired_at = $2 FROM gift_box_campaign c
          WHERE b.id = $1 AND c.id = b.campaign_id AND c.ends_at <= $2 AND b.status = ANY($3::text[])
          RETURNING b.campaign_id`,
        [boxId, now, statusesBefore('expired')],
      );
      await this.release(tx, gone.map((g) => g.campaign_id));
    });
  }

  private async release(tx: Ctx, campaignIds: string[]): Promise<void> {
    const counts = new Map<string, number>();
    for (const id of campaignIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, n] of counts) {
      await this.db.rows(tx, 'UPDATE gift_box_campaign SET reserved = greatest(reserved - $2, 0) WHERE id = $1 AND stock IS NOT NULL', [id, n]);
    }
  }

  /**
   * The campaign's figures, in total and by hour (UTC hours): boxes started, unlocked and expired, helps, helpers
   * who joined during the campaign, the points issued and their cost per new member, the K-factor (boxes started
   * from another box per box) and the depth of the deepest tree (a box without a parent is depth 1).
   */
  async figures(ctx: Ctx, campaignId: string) {
    const c = await this.campaignRow(ctx, campaignId);
    const [t] = await this.db.rows<Record<string, string | number | null>>(
      ctx,
      `SELECT count(*)::int AS boxes_started,
              count(*) FILTER (WHERE unlocked_at IS NOT NULL)::int AS boxes_unlocked,
              count(*) FILTER (WHERE status = 'rewarded')::int AS boxes_rewarded,
              count(*) FILTER (WHERE status = 'expired')::int AS boxes_expired,
              count(*) FILTER (WHERE parent_box_id IS NOT NULL)::int AS boxes_from_shares,
              coalesce(sum(reward_points) FILTER (WHERE status = 'rewarded'), 0)::int AS points_issued
         FROM gift_box WHERE campaign_id = $1`,
      [c.id],
    );
    const [h] = await this.db.rows<{ helps: number; helpers: number; new_members: number }>(
      ctx,
      `SELECT count(*)::int AS helps, count(DISTINCT helper_member_id)::int AS helpers,
              count(DISTINCT helper_member_id) FILTER (WHERE new_member)::int AS new_members
         FROM gift_box_help WHERE campaign_id = $1`,
      [c.id],
    );
    const [d] = await this.db.rows<{ depth: number | null }>(
      ctx,
      `WITH RECURSIVE tree AS (
         SELECT id, 1 AS depth FROM gift_box WHERE campaign_id = $1 AND parent_box_id IS NULL
         UNION ALL
         SELECT b.id, tree.depth + 1 FROM gift_box b JOIN tree ON b.parent_box_id = tree.id
       ) SELECT max(depth)::int AS depth FROM tree`,
      [c.id],
    );
    const hours = await this.db.rows<{ hour: Date; boxes_started: number; boxes_unlocked: number; helps: number; new_members: number }>(
      ctx,
      `WITH e AS (
         SELECT date_trunc('hour', created_at) AS hour, 1 AS started, 0 AS unlocked, 0 AS helps, 0 AS new_members FROM gift_box WHERE campaign_id = $1
         UNION ALL SELECT date_trunc('hour', unlocked_at), 0, 1, 0, 0 FROM gift_box WHERE campaign_id = $1 AND unlocked_at IS NOT NULL
         UNION ALL SELECT date_trunc('hour', created_at), 0, 0, 1, CASE WHEN new_member THEN 1 ELSE 0 END FROM gift_box_help WHERE campaign_id = $1
       )
       SELECT hour, sum(started)::int AS boxes_started, sum(unlocked)::int AS boxes_unlocked, sum(helps)::int AS helps, sum(new_members)::int AS new_members
         FROM e GROUP BY hour ORDER BY hour`,
      [c.id],
    );
    const started = Number(t!.boxes_started);
    const pointsIssued = Number(t!.points_issued);
    return {
      campaignId: c.id,
      boxesStarted: started,
      boxesUnlocked: Number(t!.boxes_unlocked),
      boxesRewarded: Number(t!.boxes_rewarded),
      boxesExpired: Number(t!.boxes_expired),
      helps: h!.helps,
      helpers: h!.helpers,
      newMembers: h!.new_members,
      pointsIssued,
      pointsPerNewMember: h!.new_members > 0 ? Math.round((pointsIssued / h!.new_members) * 100) / 100 : null,
      kFactor: started > 0 ? Math.round((Number(t!.boxes_from_shares) / started) * 1000) / 1000 : 0,
      treeDepth: d?.depth ?? 0,
      byHour: hours.map((r) => ({ hour: iso(r.hour), boxesStarted: r.boxes_started, boxesUnlocked: r.boxes_unlocked, helps: r.helps, newMembers: r.new_members })),
    };
  }

  /** The tree a box grew: the box and every box started from it, and from those, each with its parent and depth. */
  async tree(ctx: Ctx, boxId: string): Promise<{ rootBoxId: string; boxes: TreeNode[] }> {
    if (!UUID.test(boxId)) throw boxNotFound();
    const rows = await this.db.rows<BoxRow & { depth: number }>(
      ctx,
      `WITH RECURSIVE tree AS (
         SELECT b.*, 1 AS depth FROM gift_box b WHERE b.id = $1
         UNION ALL
         SELECT b.*, tree.depth + 1 FROM gift_box b JOIN tree ON b.parent_box_id = tree.id WHERE tree.depth < 1000
       ) SELECT * FROM tree ORDER BY depth, created_at, id`,
      [boxId],
    );
    if (rows.length === 0) throw boxNotFound();
    return {
      rootBoxId: boxId,
      boxes: rows.map((r) => ({
        id: r.id,
        parentBoxId: r.id === boxId ? null : r.parent_box_id,
        ownerMemberId: r.owner_member_id,
        status: r.status,
        helps: r.helps,
        helpsRequired: r.helps_required,
        depth: r.depth,
        createdAt: iso(r.created_at),
      })),
    };
  }

  private async campaignRow(ctx: Ctx, id: string): Promise<CampaignRow> {
    const [row] = UUID.test(id) ? await this.db.rows<CampaignRow>(ctx, 'SELECT * FROM gift_box_campaign WHERE id = $1', [id]) : [];
    if (!row) throw notFound('campaign_not_found', 'No gift box campaign with that id');
    return row;
  }

  private campaignView(r: CampaignRow): CampaignView {
    const now = this.clock();
    return {
      id: r.id,
      name: r.name,
      rules: r.rules,
      helpsRequired: r.helps_required,
      reward: { kind: r.reward_kind, points: r.reward_points },
      stock: r.stock,
      reserved: r.reserved,
      startsAt: iso(r.starts_at),
      endsAt: iso(r.ends_at),
      boxesPerMember: r.boxes_per_member,
      helpsPerHelper: r.helps_per_helper,
      newMembersOnly: r.new_members_only,
      status: now < new Date(r.starts_at) ? 'scheduled' : now < new Date(r.ends_at) ? 'running' : 'ended',
      createdAt: iso(r.created_at),
    };
  }
}

function summary(b: BoxRow): BoxSummary {
  return { id: b.id, campaignId: b.campaign_id, status: b.status, helpsRequired: b.helps_required, helps: b.helps };
}
