import { createHash } from 'node:crypto';
import { prepared, type Ctx, type Db } from '../../infra/db';
import { conflict, invalid, isUniqueViolation, notFound } from '../../infra/errors';
import { defaultExpiry, type ExpiryRule } from './points-expiry';

export type PointsKind = 'earn' | 'spend' | 'reverse' | 'expire' | 'adjust' | 'merge';

/** What a posted (or replayed) transaction returns: the mini-program shows `balanceAfter`. */
export interface PointsResult {
  transactionId: string;
  kind: PointsKind;
  memberId: string;
  /** Signed change of the member's balance. */
  amount: number;
  balanceAfter: number;
  reversesId: string | null;
  createdAt: string;
  /** True when this key had already been posted with the same request: the first result is returned. */
  replayed: boolean;
}

export interface EarnRequest {
  memberId: string;
  amount: number;
  /** Unique per business event (e.g. `checkin:<member>:<day>`): posting it again returns the first result. */
  idempotencyKey: string;
  reason: string;
  metadata?: Record<string, unknown>;
  /** Overrides the configured expiry rule for this credit. */
  expiresAt?: Date;
  actor?: string;
}

export interface SpendRequest {
  memberId: string;
  amount: number;
  idempotencyKey: string;
  reason: string;
  metadata?: Record<string, unknown>;
  actor?: string;
}

export interface ReverseRequest {
  transactionId: string;
  idempotencyKey: string;
  reason: string;
  /** Part of the original to reverse; the whole remainder when absent. */
  amount?: number;
  /** Reverse only what the balance still holds instead of failing (refunds of points already spent). */
  capAtBalance?: boolean;
  actor?: string;
}

export interface AdjustRequest {
  memberId: string;
  /** Signed: positive credits, negative debits. */
  delta: number;
  idempotencyKey: string;
  reason: string;
  actor: string;
}

interface Posting {
  kind: PointsKind;
  memberId: string;
  /** Signed change of the member balance. */
  amount: number;
  systemAccount: 'issued' | 'redeemed' | 'expired' | 'adjusted';
  idempotencyKey: string;
  requestHash: string;
  reason: string;
  reversesId?: string;
  metadata?: Record<string, unknown>;
  expiresAt?: Date;
  actor?: string;
  /** Debit a specific lot (expiry) instead of first-in-first-out. */
  lotId?: string;
  capAtBalance?: boolean;
}

interface TxRow {
  id: string;
  kind: PointsKind;
  member_id: string;
  amount: string;
  balance_after: string;
  reverses_id: string | null;
  request_hash: string;
  created_at: Date;
}

const MAX_POINTS = 1_000_000_000;

/** A credit through the ledger's database function (migration PointsCreditFunction): one round trip. */
const CREDIT = prepared(
  `SELECT * FROM points_credit($1::text, $2::text, $3::text, $4::uuid, $5::bigint, $6::text, $7::bigint, $8::jsonb, $9::text, $10::text, $11::timestamptz)`,
);

/** The ledger function's stable error codes (its HINT) as the service's errors. */
export function ledgerError(err: unknown): unknown {
  const e = err as { hint?: string; message?: string; driverError?: { hint?: string; message?: string } };
  const hint = e?.driverError?.hint ?? e?.hint;
  const message = e?.driverError?.message ?? e?.message ?? '';
  if (hint === 'member_not_found') return notFound('member_not_found', 'No member with that id');
  if (hint === 'member_inactive') return conflict('member_inactive', message.replace(/^member \S+ is /, 'Member is '));
  if (hint === 'idempotency_key_reused') return conflict('idempotency_key_reused', 'This idempotency key was already used for a different request');
  if (hint === 'invalid_amount') return invalid('invalid_amount', 'amount must be a positive integer');
  return err;
}

/** The member ledger, as the points ledger asks it (who a member is now, and who was merged into them). */
export interface LedgerMembers {
  /** The member's status and, once merged, the survivor; null for an unknown id. */
  statusOf(ctx: Ctx, memberId: string): Promise<{ status: string; mergedInto: string | null } | null>;
  /** The members merged into this one. */
  mergedInto(ctx: Ctx, survivorId: string): Promise<string[]>;
}

/**
 * The append-only points ledger. Every movement is a transaction with an idempotency key and a hash of the request,
 * whose signed entries sum to zero between a member account and a system account; the member's cached balance and
 * expiry lots change in the same database transaction, under a lock on the member account.
 * System accounts carry no cached balance, so they are never locked and never a hot row.
 */
export class PointsService {
  constructor(
    private readonly db: Db,
    private readonly members: LedgerMembers,
    private readonly expiry: ExpiryRule = defaultExpiry,
  ) {}

  /** Credits points (check-in, order spend, games); they expire by the configured rule, first in first out. */
  async earn(ctx: Ctx, req: EarnRequest): Promise<PointsResult> {
    const amount = checkAmount(req.amount);
    return this.post(ctx, {
      kind: 'earn',
      memberId: req.memberId,
      amount,
      systemAccount: 'issued',
      idempotencyKey: checkKey(req.idempotencyKey),
      requestHash: hashRequest(['earn', req.memberId, amount, req.reason, req.metadata ?? null, req.expiresAt?.toISOString() ?? null]),
      reason: req.reason,
      metadata: req.metadata,
      expiresAt: req.expiresAt,
      actor: req.actor,
    });
  }

  /** Debits points (points mall, redemptions); fails with `insufficient_points` rather than going below zero. */
  async spend(ctx: Ctx, req: SpendRequest): Promise<PointsResult> {
    const amount = checkAmount(req.amount);
    return this.post(ctx, {
      kind: 'spend',
      memberId: req.memberId,
      amount: -amount,
      systemAccount: 'redeemed',
      idempotencyKey: checkKey(req.idempotencyKey),
      requestHash: hashRequest(['spend', req.memberId, amount, req.reason, req.metadata ?? null]),
      reason: req.reason,
      metadata: req.metadata,
      actor: req.actor,
    });
  }

  /** Staff correction with a reason; audited by the transaction itself (actor, reason). */
  async adjust(ctx: Ctx, req: AdjustRequest): Promise<PointsResult> {
    if (!Number.isSafeInteger(req.delta) || req.delta === 0 || Math.abs(req.delta) > MAX_POINTS) {
      throw invalid('invalid_amount', 'delta must be a non-zero integer');
    }
    return this.post(ctx, {
      kind: 'adjust',
      memberId: req.memberId,
      amount: req.delta,
      systemAccount: 'adjusted',
      idempotencyKey: checkKey(req.idempotencyKey),
      requestHash: hashRequest(['adjust', req.memberId, req.delta, req.reason]),
      reason: req.reason,
      actor: req.actor,
    });
  }

  /** A new transaction undoing (part of) an earlier one; the original is never touched. */
  async reverse(ctx: Ctx, req: ReverseRequest): Promise<PointsResult> {
    const key = checkKey(req.idempotencyKey);
    if (req.amount !== undefined) checkAmount(req.amount);
    return this.db.transaction(ctx, async (tx) => {
      const [orig] = (await this.db.rows(
        tx,
        `SELECT t.id, t.kind, t.member_id, t.amount,
                t.amount + coalesce((SELECT sum(r.amount) FROM points_transaction r WHERE r.reverses_id = t.id), 0) AS open
           FROM points_transaction t WHERE t.id = $1`,
        [toBigintId(req.transactionId)],
      )) as Array<{ id: string; kind: PointsKind; member_id: string; amount: string; open: string }>;
      if (!orig) throw notFound('transaction_not_found', 'No points transaction with that id');
      // A merged member's transaction is reversed on the survivor's account.
      orig.member_id = (await this.members.statusOf(tx, orig.member_id))?.mergedInto ?? orig.member_id;
      if (orig.kind === 'reverse' || orig.kind === 'expire' || orig.kind === 'merge') {
        throw invalid('not_reversible', `A ${orig.kind} transaction cannot be reversed`);
      }
      const open = Number(orig.open);
      const wanted = req.amount ?? Math.abs(open);
      const requestHash = hashRequest(['reverse', orig.id, req.amount ?? null, req.reason, req.capAtBalance ?? false]);
      if (wanted > Math.abs(open) || open === 0) {
        const replay = await this.replay(tx, key, requestHash);
        if (replay) return replay;
        throw conflict('already_reversed', 'That transaction has already been reversed', { open: Math.abs(open) });
      }
      const sign = Number(orig.amount) > 0 ? -1 : 1;
      return this.post(tx, {
        kind: 'reverse',
        memberId: orig.member_id,
        amount: sign * wanted,
        systemAccount: orig.kind === 'spend' ? 'redeemed' : orig.kind === 'adjust' ? 'adjusted' : 'issued',
        idempotencyKey: key,
        requestHash,
        reason: req.reason,
        reversesId: orig.id,
        actor: req.actor,
        capAtBalance: req.capAtBalance,
      });
    });
  }

  /** Expires what is left of one lot; idempotent per lot. */
  async expireLot(ctx: Ctx, lotId: string): Promise<PointsResult | null> {
    return this.db.transaction(ctx, async (tx) => {
      const [lot] = (await this.db.rows(tx, `SELECT l.id, l.remaining, l.expires_at, a.member_id FROM points_lot l JOIN points_account a ON a.id = l.account_id WHERE l.id = $1`,
        [lotId],
      )) as Array<{ id: string; remaining: string; expires_at: Date; member_id: string }>;
      if (!lot || Number(lot.remaining) === 0 || new Date(lot.expires_at).getTime() > Date.now()) return null;
      return this.post(tx, {
        kind: 'expire',
        memberId: lot.member_id,
        amount: 0, // set from the locked lot inside post
        systemAccount: 'expired',
        idempotencyKey: `expire:lot:${lot.id}`,
        requestHash: hashRequest(['expire', lot.id]),
        reason: 'points expired',
        lotId: lot.id,
      });
    });
  }

  /** Expires every lot past its date, in small transactions; returns how many lots were expired. */
  async expireDue(ctx: Ctx, now = new Date(), batch = 500): Promise<number> {
    let done = 0;
    for (;;) {
      const lots = (await this.db.rows(ctx, 'SELECT id FROM points_lot WHERE remaining > 0 AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2',
        [now, batch],
      )) as Array<{ id: string }>;
      if (lots.length === 0) return done;
      for (const lot of lots) if (await this.expireLot(ctx, lot.id)) done++;
      if (lots.length < batch) return done;
    }
  }

  /**
   * Earlier credits by their idempotency keys: the amount, what reversals have taken back of it, and the multiplier
   * its metadata recorded (the member ledger's order points).
   */
  async earnsByKey(ctx: Ctx, keys: readonly string[]): Promise<Map<string, { id: string; amount: number; reversed: number; multiplier: number | null }>> {
    if (keys.length === 0) return new Map();
    const rows = await this.db.rows<{ key: string; id: string; amount: string; reversed: string; multiplier: string | null }>(
      ctx,
      `SELECT t.idempotency_key AS key, t.id, t.amount, t.metadata->>'multiplier' AS multiplier,
              coalesce((SELECT -sum(r.amount) FROM points_transaction r WHERE r.reverses_id = t.id), 0) AS reversed
         FROM points_transaction t WHERE t.idempotency_key = ANY($1::text[])`,
      [keys],
    );
    return new Map(rows.map((r) => [r.key, { id: r.id, amount: Number(r.amount), reversed: Number(r.reversed), multiplier: r.multiplier === null ? null : Number(r.multiplier) }]));
  }

  /** Balances of several members (a page of the console's list); members without an account are absent. */
  async balances(ctx: Ctx, memberIds: readonly string[]): Promise<Map<string, number>> {
    if (memberIds.length === 0) return new Map();
    const rows = await this.db.rows<{ member_id: string; balance: string }>(ctx, 'SELECT member_id, balance FROM points_account WHERE member_id = ANY($1::uuid[])', [memberIds]);
    return new Map(rows.map((r) => [r.member_id, Number(r.balance)]));
  }

  async balance(ctx: Ctx, memberId: string): Promise<number> {
    const [row] = (await this.db.rows(ctx, 'SELECT balance FROM points_account WHERE member_id = $1', [memberId])) as Array<{ balance: string }>;
    return row ? Number(row.balance) : 0;
  }

  /** Points that expire within `withinDays`, soonest first, for the member card. */
  async expiringSoon(ctx: Ctx, memberId: string, withinDays = 90): Promise<Array<{ amount: number; expiresAt: string }>> {
    const rows = (await this.db.rows(ctx, `SELECT l.expires_at, sum(l.remaining)::bigint AS amount FROM points_lot l JOIN points_account a ON a.id = l.account_id
        WHERE a.member_id = $1 AND l.remaining > 0 AND l.expires_at <= now() + make_interval(days => $2)
        GROUP BY l.expires_at ORDER BY l.expires_at`,
      [memberId, withinDays],
    )) as Array<{ expires_at: Date; amount: string }>;
    return rows.map((r) => ({ amount: Number(r.amount), expiresAt: new Date(r.expires_at).toISOString() }));
  }

  /** A member's transactions, newest first (including those of members merged into it). */
  async history(ctx: Ctx, memberId: string, limit = 50, beforeId?: string): Promise<Array<PointsResult & { reason: string; idempotencyKey: string }>> {
    const ids = [memberId, ...(await this.members.mergedInto(ctx, memberId))];
    const rows = (await this.db.rows(ctx, `SELECT t.* FROM points_transaction t
        WHERE t.member_id = ANY($1::uuid[])
          AND ($3::bigint IS NULL OR t.id < $3)
        ORDER BY t.id DESC LIMIT $2`,
      [ids, limit, beforeId ?? null],
    )) as Array<TxRow & { reason: string; idempotency_key: string }>;
    return rows.map((r) => ({ ...toResult(r, false), reason: r.reason, idempotencyKey: r.idempotency_key }));
  }

  /** Moves a member's whole balance and open lots to another member (merge), in the caller's transaction. */
  async transferAll(ctx: Ctx, fromMemberId: string, toMemberId: string, reason: string): Promise<number> {
    return this.db.transaction(ctx, async (tx) => {
      await this.openAccounts(tx, [fromMemberId, toMemberId]);
      const accounts = (await this.db.rows(
        tx,
        'SELECT id, member_id, balance FROM points_account WHERE member_id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
        [[fromMemberId, toMemberId]],
      )) as Array<{ id: string; member_id: string; balance: string }>;
      const from = accounts.find((a) => a.member_id === fromMemberId)!;
      const to = accounts.find((a) => a.member_id === toMemberId)!;
      const amount = Number(from.balance);
      if (amount === 0) return 0;
      const key = `merge:${fromMemberId}:${toMemberId}`;
      const requestHash = hashRequest(['merge', fromMemberId, toMemberId]);
      const [out] = (await this.db.rows(
        tx,
        `INSERT INTO points_transaction (idempotency_key, request_hash, kind, member_id, amount, reason, balance_after, metadata)
         VALUES ($1, $2, 'merge', $3, $4, $5, $6, $7) RETURNING id`,
        [key, requestHash, fromMemberId, -amount, reason, 0, { toMemberId }],
      )) as Array<{ id: string }>;
      const [inn] = (await this.db.rows(
        tx,
        `INSERT INTO points_transaction (idempotency_key, request_hash, kind, member_id, amount, reason, balance_after, metadata)
         VALUES ($1, $2, 'merge', $3, $4, $5, $6, $7) RETURNING id`,
        [`${key}:in`, requestHash, toMemberId, amount, reason, Number(to.balance) + amount, { fromMemberId, outTransactionId: out!.id }],
      )) as Array<{ id: string }>;
      // Two transactions, each balanced: out of the old account into `adjusted`, and from `adjusted` into the survivor.
      await this.insertEntries(tx, out!.id, from.id, -amount, 'adjusted');
      await this.insertEntries(tx, inn!.id, to.id, amount, 'adjusted');
      await this.db.rows(tx, 'UPDATE points_account SET balance = balance - $2 WHERE id = $1', [from.id, amount]);
      await this.db.rows(tx, 'UPDATE points_account SET balance = balance + $2 WHERE id = $1', [to.id, amount]);
      await this.db.rows(tx, 'UPDATE points_lot SET account_id = $2 WHERE account_id = $1 AND remaining > 0', [from.id, to.id]);
      return amount;
    });
  }

  /** Opens the members' accounts (the member ledger, on creating members); an open account stays as it is. */
  async openAccounts(ctx: Ctx, memberIds: string[]): Promise<void> {
    await this.db.rows(ctx, `INSERT INTO points_account (kind, member_id, balance) SELECT 'member', m, 0 FROM unnest($1::uuid[]) AS m
         ON CONFLICT (member_id) DO NOTHING`,
        [memberIds],
      );
  }

  private async post(ctx: Ctx, p: Posting): Promise<PointsResult> {
    if (p.amount > 0 && !p.lotId) return this.credit(ctx, p);
    try {
      return await this.db.transaction(ctx, (tx) => this.postIn(tx, p));
    } catch (err) {
      // A concurrent request with the same key committed first (only possible across members).
      if (isUniqueViolation(err, 'uq_points_transaction_key') && !ctx.em) {
        const replay = await this.replay(ctx, p.idempotencyKey, p.requestHash);
        if (replay) return replay;
      }
      throw err;
    }
  }

  /** A credit in one round trip (atomic on its own, or part of the caller's transaction). */
  private async credit(ctx: Ctx, p: Posting): Promise<PointsResult> {
    try {
      const [row] = await this.db.query<TxRow & { replayed: boolean }>(ctx, CREDIT, [
        p.idempotencyKey,
        p.requestHash,
        p.kind,
        p.memberId,
        p.amount,
        p.reason,
        p.reversesId ?? null,
        p.metadata ?? {},
        p.actor ?? null,
        p.systemAccount,
        p.expiresAt ?? this.expiry(new Date()),
      ]);
      return toResult(row!, row!.replayed);
    } catch (err) {
      throw ledgerError(err);
    }
  }

  /** When points credited now expire (the configured rule): for statements that post a credit themselves. */
  expiryOf(earnedAt: Date): Date {
    return this.expiry(earnedAt);
  }

  /** Debits (spend, expiry, reversal of a credit, negative adjustment); credits go through `credit`. */
  private async postIn(tx: Ctx, p: Posting): Promise<PointsResult> {
    if (!(await this.members.statusOf(tx, p.memberId))) throw notFound('member_not_found', 'No member with that id');
    await this.openAccounts(tx, [p.memberId]);
    const [account] = (await this.db.rows(tx, 'SELECT id, balance FROM points_account WHERE member_id = $1 FOR UPDATE', [p.memberId])) as Array<{
      id: string;
      balance: string;
    }>;
    const balance = Number(account!.balance);
    let amount = p.amount;
    if (p.lotId) {
      const [lot] = (await this.db.rows(tx, 'SELECT remaining FROM points_lot WHERE id = $1 AND account_id = $2', [p.lotId, account!.id])) as Array<{ remaining: string }>;
      amount = -Number(lot?.remaining ?? 0);
      if (amount === 0) {
        const replay = await this.replay(tx, p.idempotencyKey, p.requestHash);
        if (replay) return replay;
        throw conflict('nothing_to_expire', 'That lot has nothing left to expire');
      }
    }
    if (p.capAtBalance && amount < 0 && balance + amount < 0) amount = -balance;
    if (amount === 0 || balance + amount < 0) {
      const replay = await this.replay(tx, p.idempotencyKey, p.requestHash);
      if (replay) return replay;
      if (amount === 0) throw conflict('insufficient_points', 'Nothing left to reverse: the balance is 0', { balance });
      throw conflict('insufficient_points', `Not enough points: balance ${balance}, needs ${-amount}`, { balance });
    }
    const after = balance + amount;
    const inserted = (await this.db.rows(
      tx,
      `INSERT INTO points_transaction (idempotency_key, request_hash, kind, member_id, amount, reason, reverses_id, balance_after, metadata, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id, kind, member_id, amount, balance_after, reverses_id, request_hash, created_at`,
      [p.idempotencyKey, p.requestHash, p.kind, p.memberId, amount, p.reason, p.reversesId ?? null, after, p.metadata ?? {}, p.actor ?? null],
    )) as TxRow[];
    if (inserted.length === 0) {
      const replay = await this.replay(tx, p.idempotencyKey, p.requestHash);
      if (replay) return replay;
      throw new Error('idempotency key vanished'); // unreachable: the row conflicted, so it exists
    }
    const row = inserted[0]!;
    await this.insertEntries(tx, row.id, account!.id, amount, p.systemAccount);
    await this.db.rows(tx, 'UPDATE points_account SET balance = $2 WHERE id = $1', [account!.id, after]);
    if (p.lotId) {
      await this.db.rows(tx, 'UPDATE points_lot SET remaining = 0 WHERE id = $1', [p.lotId]);
    } else {
      await consumeLots(tx, this.db, account!.id, -amount);
    }
    return toResult(row, false);
  }

  private async insertEntries(ctx: Ctx, transactionId: string, accountId: string, amount: number, system: string): Promise<void> {
    await this.db.rows(ctx, `INSERT INTO points_entry (transaction_id, account_id, amount)
       VALUES ($1, $2, $3), ($1, (SELECT id FROM points_account WHERE code = $4), -$3::bigint)`,
      [transactionId, accountId, amount, system],
    );
  }

  /** The first result for a key posted with the same request; a conflict when the request differs; null if unknown. */
  private async replay(ctx: Ctx, key: string, requestHash: string): Promise<PointsResult | null> {
    const [row] = (await this.db.rows(ctx, 'SELECT id, kind, member_id, amount, balance_after, reverses_id, request_hash, created_at FROM points_transaction WHERE idempotency_key = $1',
        [key],
      )) as TxRow[];
    if (!row) return null;
    if (row.request_hash !== requestHash) {
      throw conflict('idempotency_key_reused', 'This idempotency key was already used for a different request');
    }
    return toResult(row, true);
  }
}

/** Takes `amount` from the account's open lots, soonest-expiring first; the account row is locked by the caller. */
async function consumeLots(ctx: Ctx, db: Db, accountId: string, amount: number): Promise<void> {
  await db.rows(ctx, `WITH open AS (
       SELECT id, remaining, sum(remaining) OVER (ORDER BY expires_at, id) - remaining AS before
         FROM points_lot WHERE account_id = $1 AND remaining > 0)
     UPDATE points_lot l SET remaining = l.remaining - least(o.remaining, $2 - o.before)
       FROM open o WHERE l.id = o.id AND o.before < $2`,
    [accountId, amount],
  );
}

function toResult(r: TxRow, replayed: boolean): PointsResult {
  return {
    transactionId: String(r.id),
    kind: r.kind,
    memberId: r.member_id,
    amount: Number(r.amount),
    balanceAfter: Number(r.balance_after),
    reversesId: r.reverses_id === null ? null : String(r.reverses_id),
    createdAt: new Date(r.created_at).toISOString(),
    replayed,
  };
}

export function hashRequest(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function checkAmount(n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0 || n > MAX_POINTS) throw invalid('invalid_amount', 'amount must be a positive integer');
  return n;
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length < 1 || key.length > 200) throw invalid('invalid_idempotency_key', 'idempotency key must be 1–200 characters');
  return key;
}

function toBigintId(id: string): string {
  if (!/^\d{1,18}$/.test(id)) throw notFound('transaction_not_found', 'No points transaction with that id');
  return id;
}
