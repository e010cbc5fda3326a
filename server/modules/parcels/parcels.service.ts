import { randomBytes } from 'node:crypto';
import { Batcher } from '../../infra/batcher';
import { prepared, systemCtx, type Ctx, type Db } from '../../infra/db';
import type { JobQueue } from '../../infra/queue';
import { conflict, notFound, unavailable } from '../../infra/errors';
import { OaFollower, ParcelBatch, type FollowEventKind, type WechatFollowEvent } from './parcels.entity';
import type { MemberDirectory, OaQrCodes, OaUsers } from './parcels.ports';

/** WeChat allows at most 100,000 permanent QR codes per account, for its whole life. */
export const PERMANENT_QR_LIMIT = 100_000;
export const FETCH_FOLLOWER_INFO = 'parcels.fetch-follower-info';
const INFO_BATCH = 100; // user/info/batchget's limit
const SWEEP_CHUNK = 1_000; // followers per sweep round: WeChat asked 100 at a time, the database once
const SWEEP_PAUSE_MS = 500;

/** The follower, upserted from the events just recorded (`ev`): the tail of both follow statements. */
const UPSERT_FOLLOWERS = `
       f AS (
         INSERT INTO oa_follower (openid, subscribed, subscribed_at, first_batch_id, last_batch_id, first_seen_at, last_event_at)
         SELECT ev.openid, true, ev.event_time, ev.batch_id, ev.batch_id, ev.event_time, ev.event_time FROM ev
         ON CONFLICT (openid) DO UPDATE SET
           subscribed = true,
           subscribed_at = CASE WHEN oa_follower.subscribed THEN oa_follower.subscribed_at ELSE EXCLUDED.subscribed_at END,
           unsubscribed_at = CASE WHEN oa_follower.subscribed THEN oa_follower.unsubscribed_at ELSE NULL END,
           first_batch_id = COALESCE(oa_follower.first_batch_id, EXCLUDED.first_batch_id),
           last_batch_id = COALESCE(EXCLUDED.last_batch_id, oa_follower.last_batch_id),
           last_event_at = GREATEST(oa_follower.last_event_at, EXCLUDED.last_event_at))`;

/** One follow event (the quiet case): the batch by scene, the kind from the follower row as it was (locked). */
const RECORD_FOLLOW = prepared(`
  WITH b AS (SELECT id, welcome_text FROM parcel_batch WHERE scene = $3::text),
       prev AS (SELECT subscribed FROM oa_follower WHERE openid = $1::text FOR UPDATE),
       ev AS (
         INSERT INTO follow_event (batch_id, openid, event, kind, event_time)
         SELECT (SELECT id FROM b), $1::text, $2::text,
                CASE WHEN $2::text = 'scan' AND coalesce((SELECT subscribed FROM prev), false) THEN 'scan'
                     WHEN EXISTS (SELECT 1 FROM prev) THEN 'refollow'
                     ELSE 'new_follow' END,
                $4::timestamptz
         ON CONFLICT (openid, event, event_time) DO NOTHING
         RETURNING openid, event, event_time, kind, batch_id),${UPSERT_FOLLOWERS}
  SELECT ev.kind, (SELECT id FROM b) AS batch_id, (SELECT welcome_text FROM b) AS welcome_text FROM (SELECT 1) one LEFT JOIN ev ON true`);

/**
 * The same for many events at once (distinct openids; under load): each event's batch by its scene, its kind from
 * the follower row as it was (locked, in openid order), the event unless WeChat delivered it before, then the
 * follower upserted from the event. One row per event, in order: kind is null for a delivery recorded before; the
 * batch is there for its welcome either way. A lone event keeps RECORD_FOLLOW, which costs the database less.
 */
const RECORD_FOLLOWS = prepared(`
  WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS i(openid, event, scene, event_time, n)),
       b AS (SELECT p.scene, p.id, p.welcome_text FROM parcel_batch p WHERE p.scene IN (SELECT scene FROM input)),
       prev AS (SELECT f.openid, f.subscribed FROM oa_follower f WHERE f.openid IN (SELECT openid FROM input) ORDER BY f.openid FOR UPDATE),
       ev AS (
         INSERT INTO follow_event (batch_id, openid, event, kind, event_time)
         SELECT b.id, i.openid, i.event,
                CASE WHEN i.event = 'scan' AND coalesce(prev.subscribed, false) THEN 'scan'
                     WHEN prev.openid IS NOT NULL THEN 'refollow'
                     ELSE 'new_follow' END,
                i.event_time
           FROM input i LEFT JOIN b ON b.scene = i.scene LEFT JOIN prev ON prev.openid = i.openid
         ON CONFLICT (openid, event, event_time) DO NOTHING
         RETURNING openid, event, event_time, kind, batch_id),${UPSERT_FOLLOWERS}
  SELECT ev.kind, b.id AS batch_id, b.welcome_text
    FROM input i LEFT JOIN b ON b.scene = i.scene
    LEFT JOIN ev ON ev.openid = i.openid AND ev.event = i.event AND ev.event_time = i.event_time
   ORDER BY i.n`);

const INFO_DUE = prepared('SELECT openid FROM oa_follower WHERE info_fetched_at IS NULL ORDER BY first_seen_at LIMIT $1');

const SAVE_INFO = prepared(`
  UPDATE oa_follower f SET unionid = COALESCE(v.unionid, f.unionid), member_id = COALESCE(f.member_id, v.member_id),
         info_fetched_at = now()
    FROM unnest($1::text[], $2::text[], $3::uuid[]) AS v(openid, unionid, member_id)
   WHERE f.openid = v.openid`);

export interface CreateBatchInput {
  name: string;
  channelId?: string | null;
  quantityPrinted: number;
  printingCostFen: number;
  insertText: string;
  welcomeText?: string | null;
  /** A temporary code (livestream, a one-off event) instead of a permanent one. */
  temporaryDays?: number;
}

export interface BatchView {
  id: string;
  name: string;
  scene: string;
  channelId: string | null;
  quantityPrinted: number;
  printingCostFen: number;
  insertText: string;
  welcomeText: string | null;
  qrKind: 'permanent' | 'temporary';
  qrTicket: string | null;
  qrUrl: string | null;
  qrImageUrl: string | null;
  qrExpiresAt: string | null;
  createdAt: string;
}

export interface BatchCounts {
  scans: number;
  newFollowers: number;
  refollows: number;
  followerScans: number;
  unfollows: number;
}

export interface BatchFigures extends BatchCounts {
  batchId: string;
  /** Followers this batch brought who still follow. */
  netFollowers: number;
  boundBuyers: number;
  reviewRewardClaims: number;
  printingCostFen: number;
  /** Printing cost over new followers, in fen; null before the first follower. */
  costPerFollowerFen: number | null;
  costPerBoundBuyerFen: number | null;
  byDay: Array<BatchCounts & { day: string }>;
}

/** Counts review-reward claims made by these members (the review-rewards module answers). */
export type ClaimsCounter = (ctx: Ctx, memberIds: readonly string[]) => Promise<number>;

export interface FollowInput {
  openid: string;
  eventTime: Date;
  scene: string | null;
  event: 'subscribe' | 'scan';
}

interface FollowRow {
  kind: FollowEventKind | null;
  batch_id: string | null;
  welcome_text: string | null;
}

export interface FollowOutcome {
  duplicate: boolean;
  kind: FollowEventKind | null;
  batch: { id: string; welcomeText: string | null } | null;
}

/** `qrscene_pb_x` (subscribe through a code) or `pb_x` (SCAN by a follower) → `pb_x`; anything else → null. */
export function sceneFromEventKey(eventKey: string | undefined, event: 'subscribe' | 'SCAN'): string | null {
  if (!eventKey) return null;
  const scene = event === 'subscribe' ? (eventKey.startsWith('qrscene_') ? eventKey.slice('qrscene_'.length) : null) : eventKey;
  return scene && scene.length <= 64 ? scene : null;
}

export class ParcelsService {
  private sweepRequestedAt = 0;
  private sweepRequestTimer: NodeJS.Timeout | undefined;
  private lastFollowAt = 0;
  private readonly follows = new Batcher<FollowInput, FollowRow>((events) => this.recordFollows(events), (e) => e.openid, {
    maxInFlight: 3,
    maxBatch: 100,
  });

  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly qr: OaQrCodes,
    private readonly users: OaUsers,
    private readonly members: MemberDirectory,
    private readonly opts: { permanentLimit?: number; showQrUrl: (ticket: string) => string },
  ) {}

  /**
   * Reserves the batch (and a permanent code under WeChat's limit) in the database, then asks WeChat for the code.
   * If WeChat refuses, the reservation is undone so the count stays true.
   */
  async createBatch(ctx: Ctx, input: CreateBatchInput): Promise<BatchView> {
    const permanent = !input.temporaryDays;
    const scene = `pb_${randomBytes(6).toString('base64url')}`;
    const batch = await this.db.transaction(ctx, async (tx) => {
      if (permanent) {
        await this.db.rows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', ['parcels:permanent-qr']);
        const [{ n }] = await this.db.rows(tx, "SELECT count(*)::int AS n FROM parcel_batch WHERE qr_kind = 'permanent'");
        if (n >= (this.opts.permanentLimit ?? PERMANENT_QR_LIMIT)) {
          throw conflict('qr_limit_reached', `WeChat allows ${this.opts.permanentLimit ?? PERMANENT_QR_LIMIT} permanent QR codes per account; use a temporary code`);
        }
      }
      const repo = this.db.repo(tx, ParcelBatch);
      const row = repo.create({
        scene,
        name: input.name,
        channelId: input.channelId ?? null,
        quantityPrinted: input.quantityPrinted,
        printingCostFen: input.printingCostFen,
        insertText: input.insertText,
        welcomeText: input.welcomeText ?? null,
        qrKind: permanent ? 'permanent' : 'temporary',
        qrTicket: null,
        qrUrl: null,
        qrExpiresAt: null,
      });
      return repo.save(row);
    });
    try {
      const code = await this.qr.createQrCode(scene, permanent ? undefined : input.temporaryDays! * 86_400);
      batch.qrTicket = code.ticket;
      batch.qrUrl = code.url;
      batch.qrExpiresAt = code.expireSeconds ? new Date(Date.now() + code.expireSeconds * 1000) : null;
      await this.db.repo(ctx, ParcelBatch).update(batch.id, { qrTicket: batch.qrTicket, qrUrl: batch.qrUrl, qrExpiresAt: batch.qrExpiresAt });
    } catch (err) {
      await this.db.repo(ctx, ParcelBatch).delete(batch.id);
      throw unavailable('wechat_qr_failed', `WeChat did not create the QR code: ${(err as Error).message}`);
    }
    return this.view(batch);
  }

  async listBatches(ctx: Ctx): Promise<BatchView[]> {
    const rows = await this.db.repo(ctx, ParcelBatch).find({ order: { createdAt: 'DESC' } });
    return rows.map((b) => this.view(b));
  }

  async getBatch(ctx: Ctx, id: string): Promise<ParcelBatch> {
    const batch = await this.db.repo(ctx, ParcelBatch).findOneBy({ id });
    if (!batch) throw notFound('batch_not_found', 'No parcel batch with that id');
    return batch;
  }

  async permanentCodesUsed(ctx: Ctx): Promise<{ used: number; limit: number }> {
    const [{ n }] = await this.db.rows(ctx, "SELECT count(*)::int AS n FROM parcel_batch WHERE qr_kind = 'permanent'");
    return { used: n, limit: this.opts.permanentLimit ?? PERMANENT_QR_LIMIT };
  }

  view(b: ParcelBatch): BatchView {
    return {
      id: b.id,
      name: b.name,
      scene: b.scene,
      channelId: b.channelId,
      quantityPrinted: b.quantityPrinted,
      printingCostFen: Number(b.printingCostFen),
      insertText: b.insertText,
      welcomeText: b.welcomeText,
      qrKind: b.qrKind,
      qrTicket: b.qrTicket,
      qrUrl: b.qrUrl,
      qrImageUrl: b.qrTicket ? this.opts.showQrUrl(b.qrTicket) : null,
      qrExpiresAt: b.qrExpiresAt ? new Date(b.qrExpiresAt).toISOString() : null,
      createdAt: new Date(b.createdAt).toISOString(),
    };
  }

  /**
   * A `subscribe` (new follower or returning one) or a `SCAN` by a follower, recorded once per WeChat event
   * even when WeChat delivers it again (or two instances get it at once): one statement on the callback path,
   * shared with the events arriving meanwhile. The follower's user info and member come later, from the sweep.
   */
  async recordFollow(ctx: Ctx, e: FollowInput): Promise<FollowOutcome> {
    // Concurrent callbacks share one statement; inside a caller's transaction the event goes on its own.
    this.lastFollowAt = Date.now();
    const row = ctx.em ? (await this.recordFollows([e], ctx))[0]! : await this.follows.add(e);
    const batch = row.batch_id ? { id: row.batch_id, welcomeText: row.welcome_text } : null;
    if (!row.kind) return { duplicate: true, kind: null, batch };
    if (row.kind !== 'scan') await this.requestInfoSweep();
    return { duplicate: false, kind: row.kind, batch };
  }

  private recordFollows(events: FollowInput[], ctx: Ctx = systemCtx): Promise<FollowRow[]> {
    if (events.length === 1) {
      const [e] = events;
      return this.db.query<FollowRow>(ctx, RECORD_FOLLOW, [e!.openid, e!.event, e!.scene, e!.eventTime]);
    }
    return this.db.query<FollowRow>(ctx, RECORD_FOLLOWS, [
      events.map((e) => e.openid),
      events.map((e) => e.event),
      events.map((e) => e.scene),
      events.map((e) => e.eventTime),
    ]);
  }

  /**
   * At most one sweep request a second from this instance; a follow within that second is covered by one more
   * request at its end (a sweep that had just finished would otherwise leave it to the minute schedule).
   */
  private async requestInfoSweep(): Promise<void> {
    const now = Date.now();
    if (now - this.sweepRequestedAt < 1_000) {
      this.sweepRequestTimer ??= setTimeout(() => {
        this.sweepRequestTimer = undefined;
        void this.requestInfoSweep();
      }, this.sweepRequestedAt + 1_000 - now);
      this.sweepRequestTimer.unref();
      return;
    }
    this.sweepRequestedAt = now;
    try {
      await this.queue.send(systemCtx, FETCH_FOLLOWER_INFO, {});
    } catch {
      this.sweepRequestedAt = 0; // the follow is recorded; the next one asks again, the schedule meanwhile
    }
  }

  async recordUnfollow(ctx: Ctx, e: { openid: string; eventTime: Date }): Promise<{ duplicate: boolean }> {
    return this.db.transaction(ctx, async (tx) => {
      const [follower] = await this.db.rows(tx, 'SELECT first_batch_id FROM oa_follower WHERE openid = $1 FOR UPDATE', [e.openid]);
      const inserted = await this.insertEvent(tx, {
        openid: e.openid,
        event: 'unsubscribe',
        kind: 'unfollow',
        eventTime: e.eventTime,
        batchId: follower?.first_batch_id ?? null,
      });
      if (!inserted) return { duplicate: true };
      await this.db.rows(tx, `INSERT INTO oa_follower (openid, subscribed, unsubscribed_at, first_seen_at, last_event_at)
         VALUES ($1, false, $2, $2, $2)
         ON CONFLICT (openid) DO UPDATE SET subscribed = false, unsubscribed_at = EXCLUDED.unsubscribed_at,
           last_event_at = GREATEST(oa_follower.last_event_at, EXCLUDED.last_event_at)`,
        [e.openid, e.eventTime],
      );
      return { duplicate: false };
    });
  }

  private async insertEvent(
    ctx: Ctx,
    e: { openid: string; event: WechatFollowEvent; kind: FollowEventKind; eventTime: Date; batchId: string | null },
  ): Promise<boolean> {
    const rows = await this.db.rows(ctx, `INSERT INTO follow_event (batch_id, openid, event, kind, event_time) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (openid, event, event_time) DO NOTHING RETURNING id`,
        [e.batchId, e.openid, e.event, e.kind, e.eventTime],
      );
    return rows.length === 1;
  }

  /**
   * Queued sweep: followers still without user info, oldest first, asked of WeChat 100 per call and linked to their
   * member (the unionid joins the mini-program's). One sweeper at a time across instances (the others return at
   * once); until nothing is due. When WeChat refuses, what it answered before is saved and the job retries the rest.
   */
  async fetchFollowersInfo(ctx: Ctx): Promise<number> {
    const swept = await this.db.exclusively('parcels:follower-info', async () => {
      let done = 0;
      for (;;) {
        let due = (await this.db.query<{ openid: string }>(ctx, INFO_DUE, [SWEEP_CHUNK])).map((r) => r.openid);
        if (due.length === 0) return done;
        const infos = new Map<string, { unionid?: string } | null>();
        let refused: unknown;
        for (let i = 0; i < due.length; i += INFO_BATCH) {
          try {
            for (const [openid, info] of await this.users.getUsersInfo(due.slice(i, i + INFO_BATCH))) infos.set(openid, info);
          } catch (err) {
            refused = err;
            due = due.slice(0, i);
            break;
          }
        }
        if (due.length > 0) {
          const known = due.filter((openid) => infos.get(openid));
          const members = await this.members.membersForOaFollowers(
            ctx,
            known.map((openid) => ({ openid, unionid: infos.get(openid)?.unionid })),
          );
          await this.db.query(ctx, SAVE_INFO, [
            due,
            due.map((openid) => infos.get(openid)?.unionid ?? null),
            due.map((openid) => members.get(openid) ?? null),
          ]);
          done += due.length;
        }
        if (refused) throw refused;
        // While follows keep arriving (a scan spike), the sweep takes what came in the last pause in one go: its
        // member rows are written in few statements and commits beside the callbacks, not 100 at a time as they come.
        if (Date.now() - this.lastFollowAt < SWEEP_PAUSE_MS) await new Promise((resolve) => setTimeout(resolve, SWEEP_PAUSE_MS));
      }
    });
    return swept ?? 0;
  }

  /** Per-batch figures: the funnel from scan to follow to bound buyer to review claim, and what each cost. */
  async batchFigures(ctx: Ctx, batchId: string, countClaims: ClaimsCounter): Promise<BatchFigures> {
    const batch = await this.getBatch(ctx, batchId);
    const counts = `
      count(*) FILTER (WHERE event IN ('subscribe', 'scan'))::int AS scans,
      count(*) FILTER (WHERE kind = 'new_follow')::int AS "newFollowers",
      count(*) FILTER (WHERE kind = 'refollow')::int AS refollows,
      count(*) FILTER (WHERE kind = 'scan')::int AS "followerScans",
      count(*) FILTER (WHERE kind = 'unfollow')::int AS unfollows`;
    const [totals] = await this.db.rows(ctx, `SELECT ${counts} FROM follow_event WHERE batch_id = $1`, [batchId]);
    const byDay = await this.db.rows<BatchCounts & { day: string }>(
      ctx,
      `SELECT to_char((event_time AT TIME ZONE 'Asia/Shanghai')::date, 'YYYY-MM-DD') AS day, ${counts}
       FROM follow_event WHERE batch_id = $1 GROUP BY 1 ORDER BY 1`,
      [batchId],
    );
    const followers: Array<{ member_id: string | null; subscribed: boolean }> = await this.db.rows(
      ctx,
      'SELECT member_id, subscribed FROM oa_follower WHERE first_batch_id = $1',
      [batchId],
    );
    const memberIds = followers.map((f) => f.member_id).filter((m): m is string => m !== null);
    const bound = memberIds.length ? await this.members.boundMemberIds(ctx, memberIds) : new Set<string>();
    const claims = memberIds.length ? await countClaims(ctx, memberIds) : 0;
    const cost = Number(batch.printingCostFen);
    const per = (n: number) => (n > 0 ? Math.round(cost / n) : null);
    return {
      batchId,
      ...(totals as BatchCounts),
      netFollowers: followers.filter((f) => f.subscribed).length,
      boundBuyers: bound.size,
      reviewRewardClaims: claims,
      printingCostFen: cost,
      costPerFollowerFen: per(totals.newFollowers),
      costPerBoundBuyerFen: per(bound.size),
      byDay,
    };
  }

  followerOfOpenid(ctx: Ctx, openid: string): Promise<OaFollower | null> {
    return this.db.repo(ctx, OaFollower).findOneBy({ openid });
  }

}
