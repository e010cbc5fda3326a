import type { Ctx, Db } from '../../infra/db';
import { conflict, invalid, notFound } from '../../infra/errors';
import type { JobQueue } from '../../infra/queue';
import type { PrivacyRegistry } from '../../infra/privacy';
import type { TiersService } from './tiers.service';
import type { OrderPointsService } from './order-points.service';

export type WechatApp = 'oa' | 'mp';

export interface FindOrCreateInput {
  /** Which WeChat app the openid belongs to: the Official Account or the mini-program. */
  app: WechatApp;
  openid: string;
  /** When WeChat gives one, it joins the Official Account and mini-program openids into one member. */
  unionid?: string | null;
  nickname?: string | null;
}

export interface OaFollowerIdentity {
  openid: string;
  unionid?: string | null;
}

export interface FindOrCreateResult {
  memberId: string;
  created: boolean;
  /** Set when the unionid joined two members that had existed apart: the one merged into `memberId`. */
  mergedMemberId?: string;
}

export interface ProfilePatch {
  nickname?: string | null;
  gender?: 'male' | 'female' | 'unknown' | null;
  birthday?: string | null;
  region?: string | null;
  tags?: string[];
  notes?: string | null;
}

export const MEMBER_REFRESH_JOB = 'members.refresh';

const OPAQUE_ID = /^[A-Za-z0-9_-]{6,64}$/;

/** Thrown inside a batch transaction to roll it back when a concurrent request claimed one of its identities. */
const IDENTITY_RACE = new Error('identity claimed concurrently');

/**
 * One member per person, whatever door they came through. Other modules (the WeChat callback, mini-program login,
 * parcel binding) call this service; nobody else writes member or member_identity rows.
 */
export class MembersService {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly tiers: TiersService,
    private readonly orderPoints: OrderPointsService,
    /** Every module's merge hook (this ledger's and the points ledger's first), run in the merge's transaction. */
    private readonly privacy: PrivacyRegistry,
    /** The points ledger opens a new member's account, so that crediting points is one statement from the start. */
    private readonly accounts: { openAccounts(ctx: Ctx, memberIds: string[]): Promise<void> },
  ) {}

  /**
   * The member behind an Official Account or mini-program openid, created on first sight. A unionid attaches to the
   * member; when the unionid and the openid already belong to two members, they are merged (the older survives).
   * Safe under concurrency: identities are claimed by unique constraint, and a lost race re-reads the winner.
   */
  async findOrCreateByOpenid(ctx: Ctx, input: FindOrCreateInput): Promise<FindOrCreateResult> {
    if (!OPAQUE_ID.test(input.openid)) throw invalid('invalid_openid', 'openid is malformed');
    if (input.unionid != null && !OPAQUE_ID.test(input.unionid)) throw invalid('invalid_unionid', 'unionid is malformed');
    const openidKind = input.app === 'oa' ? 'oa_openid' : 'mp_openid';
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.db.transaction(ctx, async (tx) => {
        const found = (await this.db.rows(
          tx,
          `SELECT i.kind, i.member_id, m.created_at FROM member_identity i JOIN member m ON m.id = i.member_id
            WHERE (i.kind = $1 AND i.value = $2) OR (i.kind = 'unionid' AND i.value = $3)`,
          [openidKind, input.openid, input.unionid ?? null],
        )) as Array<{ kind: string; member_id: string; created_at: Date }>;
        const byOpenid = found.find((f) => f.kind === openidKind);
        const byUnionid = found.find((f) => f.kind === 'unionid');
        let memberId = byOpenid?.member_id ?? byUnionid?.member_id;
        let mergedMemberId: string | undefined;
        if (byOpenid && byUnionid && byOpenid.member_id !== byUnionid.member_id) {
          const [older, newer] = [byOpenid, byUnionid].sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime());
          await this.mergeIn(tx, older!.member_id, newer!.member_id, { reason: 'unionid joined two openids', actor: 'system' });
          memberId = older!.member_id;
          mergedMemberId = newer!.member_id;
        }
        let created = false;
        if (!memberId) {
          const [row] = (await this.db.rows(tx, 'INSERT INTO member (nickname) VALUES ($1) RETURNING id', [input.nickname ?? null])) as Array<{ id: string }>;
          memberId = row!.id;
          created = true;
        }
        const wanted: Array<[string, string]> = [[openidKind, input.openid]];
        if (input.unionid) wanted.push(['unionid', input.unionid]);
        for (const [kind, value] of wanted) {
          const claimed = (await this.db.rows(
            tx,
            `INSERT INTO member_identity (member_id, kind, value) VALUES ($1, $2, $3)
             ON CONFLICT (kind, value) DO NOTHING RETURNING id`,
            [memberId, kind, value],
          )) as unknown[];
          if (claimed.length === 0) {
            const [owner] = (await this.db.rows(tx, 'SELECT member_id FROM member_identity WHERE kind = $1 AND value = $2', [kind, value])) as Array<{ member_id: string }>;
            if (owner?.member_id !== memberId) {
              // Another request claimed it first: drop what this one created and resolve again.
              if (created) {
                await this.db.rows(tx, 'DELETE FROM member_identity WHERE member_id = $1', [memberId]);
                await this.db.rows(tx, 'DELETE FROM member WHERE id = $1', [memberId]);
              }
              return null;
            }
          }
        }
        if (created) await this.accounts.openAccounts(tx, [memberId]);
        if (input.nickname && !created) {
          await this.db.rows(tx, 'UPDATE member SET nickname = coalesce(nickname, $2), updated_at = now() WHERE id = $1', [memberId, input.nickname]);
        }
        return { memberId, created, mergedMemberId };
      });
      if (result) {
        if (result.mergedMemberId) await this.refresh(ctx, [result.memberId], 'merge');
        return result;
      }
    }
    throw conflict('identity_race', 'Could not resolve the member; try again');
  }

  /**
   * The members behind many Official Account followers at once (the queued user-info sweep): found by openid or
   * unionid, attached, or created, in one transaction of a few set-based statements. Followers whose openid and
   * unionid belong to two members (a merge), and every follower of a batch that lost a race for an identity, go
   * through findOrCreateByOpenid one by one. Followers with a malformed openid are left out of the answer.
   */
  async findOrCreateOaFollowers(ctx: Ctx, followers: ReadonlyArray<OaFollowerIdentity>): Promise<Map<string, string>> {
    const people = [...new Map(followers.filter((f) => OPAQUE_ID.test(f.openid)).map((f) => [f.openid, f])).values()];
    const found = new Map<string, string>();
    let oneByOne: OaFollowerIdentity[] = people;
    if (people.length > 0 && !ctx.em) {
      try {
        oneByOne = await this.db.transaction(ctx, (tx) => this.linkFollowers(tx, people, found));
      } catch (err) {
        if (err !== IDENTITY_RACE) throw err;
        found.clear();
        oneByOne = people;
      }
    }
    for (const p of oneByOne) {
      found.set(p.openid, (await this.findOrCreateByOpenid(ctx, { app: 'oa', openid: p.openid, unionid: p.unionid })).memberId);
    }
    return found;
  }

  /** The set-based part of findOrCreateOaFollowers; returns the followers left for the one-by-one path. */
  private async linkFollowers(tx: Ctx, people: OaFollowerIdentity[], found: Map<string, string>): Promise<OaFollowerIdentity[]> {
    const known = await this.db.rows<{ kind: string; value: string; member_id: string }>(
      tx,
      `SELECT kind, value, member_id FROM member_identity
        WHERE (kind = 'oa_openid' AND value = ANY($1::text[])) OR (kind = 'unionid' AND value = ANY($2::text[]))`,
      [people.map((p) => p.openid), people.map((p) => p.unionid).filter((u): u is string => !!u)],
    );
    const byOpenid = new Map(known.filter((k) => k.kind === 'oa_openid').map((k) => [k.value, k.member_id]));
    const byUnionid = new Map(known.filter((k) => k.kind === 'unionid').map((k) => [k.value, k.member_id]));
    const merges: OaFollowerIdentity[] = [];
    const fresh: OaFollowerIdentity[] = [];
    const attach: Array<[memberId: string, kind: string, value: string]> = [];
    for (const p of people) {
      const a = byOpenid.get(p.openid);
      const b = p.unionid ? byUnionid.get(p.unionid) : undefined;
      if (a && b && a !== b) {
        merges.push(p);
        continue;
      }
      const member = a ?? b;
      if (!member) {
        fresh.push(p);
        continue;
      }
      found.set(p.openid, member);
      if (!a) attach.push([member, 'oa_openid', p.openid]);
      if (p.unionid && !b) attach.push([member, 'unionid', p.unionid]);
    }
    if (fresh.length > 0) {
      const created = await this.db.rows<{ id: string }>(
        tx,
        'INSERT INTO member (nickname) SELECT NULL FROM generate_series(1, $1::int) RETURNING id',
        [fresh.length],
      );
      fresh.forEach((p, i) => {
        const id = created[i]!.id;
        found.set(p.openid, id);
        attach.push([id, 'oa_openid', p.openid]);
        if (p.unionid) attach.push([id, 'unionid', p.unionid]);
      });
    }
    if (attach.length > 0) {
      const claimed = await this.db.rows(
        tx,
        `INSERT INTO member_identity (member_id, kind, value)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
         ON CONFLICT (kind, value) DO NOTHING RETURNING id`,
        [attach.map((a) => a[0]), attach.map((a) => a[1]), attach.map((a) => a[2])],
      );
      // Someone else claimed one of these identities meanwhile: undo the batch, resolve each follower on its own.
      if (claimed.length !== attach.length) throw IDENTITY_RACE;
    }
    if (fresh.length > 0) await this.accounts.openAccounts(tx, fresh.map((p) => found.get(p.openid)!));
    return merges;
  }

  /** The member an identity belongs to, or null (e.g. `oa_openid` from a callback). */
  async findByIdentity(ctx: Ctx, kind: 'oa_openid' | 'mp_openid' | 'unionid', value: string): Promise<string | null> {
    const [row] = (await this.db.rows(ctx, 'SELECT member_id FROM member_identity WHERE kind = $1 AND value = $2', [kind, value])) as Array<{
      member_id: string;
    }>;
    return row?.member_id ?? null;
  }

  /** The member's status and, once merged, the survivor; null for an unknown id. */
  async statusOf(ctx: Ctx, memberId: string): Promise<{ status: string; mergedInto: string | null } | null> {
    const [row] = await this.db.rows<{ status: string; merged_into: string | null }>(ctx, 'SELECT status, merged_into FROM member WHERE id = $1', [memberId]);
    return row ? { status: row.status, mergedInto: row.merged_into } : null;
  }

  /** The members merged into this one. */
  async mergedInto(ctx: Ctx, survivorId: string): Promise<string[]> {
    return (await this.db.rows<{ id: string }>(ctx, 'SELECT id FROM member WHERE merged_into = $1', [survivorId])).map((r) => r.id);
  }

  /** Active member id, following a merge to the survivor; not_found for unknown or erased members. */
  async resolve(ctx: Ctx, memberId: string): Promise<string> {
    if (!/^[0-9a-f-]{36}$/i.test(memberId)) throw notFound('member_not_found', 'No member with that id');
    const [row] = (await this.db.rows(ctx, 'SELECT status, merged_into FROM member WHERE id = $1', [memberId])) as Array<{
      status: string;
      merged_into: string | null;
    }>;
    if (!row || row.status === 'erased') throw notFound('member_not_found', 'No member with that id');
    return row.status === 'merged' ? row.merged_into! : memberId;
  }

  async updateProfile(ctx: Ctx, memberId: string, patch: ProfilePatch, actor: string): Promise<void> {
    await this.db.transaction(ctx, async (tx) => {
      const id = await this.requireActive(tx, memberId);
      const sets: string[] = [];
      const values: unknown[] = [id];
      const column: Record<keyof ProfilePatch, string> = {
        nickname: 'nickname',
        gender: 'gender',
        birthday: 'birthday',
        region: 'region',
        tags: 'tags',
        notes: 'notes',
      };
      for (const [k, col] of Object.entries(column) as Array<[keyof ProfilePatch, string]>) {
        if (patch[k] === undefined) continue;
        values.push(k === 'tags' ? [...new Set(patch.tags)] : patch[k]);
        sets.push(`${col} = $${values.length}`);
      }
      if (sets.length === 0) return;
      await this.db.rows(tx, `UPDATE member SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`, values);
      await this.audit(tx, id, 'profile_update', actor, { fields: Object.keys(patch).filter((k) => patch[k as keyof ProfilePatch] !== undefined) });
    });
  }

  /**
   * Merges `otherId` into `survivorId` (the same person found twice): identities, orders, points, tier history and
   * every other module's rows (sessions, followers, store orders, check-ins, claims, addresses, coupons) move to the
   * survivor in one transaction, through the modules' merge hooks; the other row stays, pointing at the survivor.
   */
  async merge(ctx: Ctx, survivorId: string, otherId: string, opts: { reason: string; actor: string }): Promise<void> {
    await this.db.transaction(ctx, (tx) => this.mergeIn(tx, survivorId, otherId, opts));
    await this.refresh(ctx, [survivorId], 'merge');
  }

  private async mergeIn(tx: Ctx, survivorId: string, otherId: string, opts: { reason: string; actor: string }): Promise<void> {
    if (survivorId === otherId) throw invalid('same_member', 'A member cannot be merged into itself');
    const rows = (await this.db.rows(tx, 'SELECT id, status FROM member WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [[survivorId, otherId]])) as Array<{
      id: string;
      status: string;
    }>;
    if (rows.length !== 2) throw notFound('member_not_found', 'Both members must exist');
    if (rows.some((r) => r.status !== 'active')) throw conflict('member_inactive', 'Only active members can be merged');
    // Every module moves the other's rows to the survivor, in this transaction: all of them or none.
    const moved: Record<string, Record<string, number>> = {};
    for (const h of this.privacy.hooks) moved[h.name] = (await h.merge(tx, survivorId, otherId)) ?? {};
    await this.db.rows(tx, "UPDATE member SET status = 'merged', merged_into = $1, updated_at = now() WHERE id = $2", [survivorId, otherId]);
    const details = {
      other: otherId,
      survivor: survivorId,
      reason: opts.reason,
      identities: moved.members?.identities ?? 0,
      orders: moved.members?.orders ?? 0,
      points: moved.points?.points ?? 0,
      moved,
    };
    await this.audit(tx, survivorId, 'merge', opts.actor, details);
    await this.audit(tx, otherId, 'merged_into', opts.actor, details);
  }

  /** Recomputes spend, tier and order points of members whose orders or bindings changed. */
  async refresh(ctx: Ctx, memberIds: string[], reason: string): Promise<void> {
    if (memberIds.length === 0) return;
    await this.tiers.recompute(ctx, memberIds, reason);
    await this.orderPoints.sync(ctx, memberIds);
  }

  /** Queues a refresh (after an import), in the caller's transaction when there is one. */
  async queueRefresh(ctx: Ctx, memberIds: string[], reason: string): Promise<void> {
    for (let i = 0; i < memberIds.length; i += 500) {
      await this.queue.send(ctx, MEMBER_REFRESH_JOB, { memberIds: memberIds.slice(i, i + 500), reason });
    }
  }

  async requireActive(ctx: Ctx, memberId: string): Promise<string> {
    const id = await this.resolve(ctx, memberId);
    return id;
  }

  async audit(ctx: Ctx, memberId: string, action: string, actor: string, details: Record<string, unknown>): Promise<void> {
    await this.db.rows(ctx, 'INSERT INTO member_audit (member_id, action, actor, details) VALUES ($1, $2, $3, $4)', [memberId, action, actor, details]);
  }

  /** A new sales channel; a conflict `channel_exists` when one of that kind and name exists. */
  async addChannel(ctx: Ctx, kind: string, name: string): Promise<{ id: string; kind: string; name: string }> {
    const [row] = await this.db.rows<{ id: string; kind: string; name: string }>(
      ctx,
      'INSERT INTO sales_channel (kind, name) VALUES ($1, $2) ON CONFLICT (kind, name) DO NOTHING RETURNING id, kind, name',
      [kind, name],
    );
    if (!row) throw conflict('channel_exists', 'A channel of that kind and name exists');
    return row;
  }
}
