import { randomInt, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Ctx, Db } from '../../infra/db';
import { AppError, conflict, invalid, notFound, unavailable } from '../../infra/errors';
import type { JobQueue } from '../../infra/queue';
import { shanghaiDay } from '../../infra/time';
import type { WxPayNotificationHandlers } from '../../wechat/pay/wxpay-notification.service';
import type { RefundStatus, WxPayTransaction } from '../../wechat/pay/wxpay.types';
import type { PayGateway } from './payments.gateway';

export const SUBMIT_REFUND = 'payments.submit-refund';
export const RECONCILE = 'payments.reconcile';

/** WeChat Pay's refund rules (pay.weixin.qq.com doc 4012556457). */
export const REFUND_RULES = { maxPerPayment: 50, gapSeconds: 60, windowDays: 365 } as const;
/** A pending intent with a prepay is asked about this long after its prepay, then again at this pace. */
const INTENT_CHECK_MINUTES = 5;
/** A refund WeChat accepted is asked about this long after, then again at this pace. */
const REFUND_CHECK_MINUTES = 2;

export interface PaymentIntent {
  id: string;
  kind: string;
  key: string;
  memberId: string | null;
  outTradeNo: string;
  payerOpenid: string;
  amountFen: number;
  state: 'pending' | 'paid' | 'closed';
  prepayId: string | null;
  expiresAt: Date;
  transactionId: string | null;
  paidAt: Date | null;
  /** Paid although it had been closed here (the close did not reach WeChat in time): the owner gives the money back. */
  paidAfterClose: boolean;
  closeReason: string | null;
  refundedFen: number;
  refundCount: number;
}

export interface PaymentRefund {
  id: string;
  intentId: string;
  key: string;
  outRefundNo: string;
  amountFen: number;
  reason: string;
  state: 'pending' | 'processing' | 'succeeded' | 'failed';
  notBefore: Date;
  error: string | null;
  settledAt: Date | null;
}

/**
 * What a module that sells something registers: its kind, the prefix of its out_trade_no, and what happens to its
 * side when an intent is paid, closed or a refund settles. Each runs inside the transaction that records the event,
 * through ctx only; throwing undoes the event (WeChat delivers it again, reconciliation asks again).
 */
export interface PaymentKind {
  kind: string;
  /** Letters only, 1–4: the out_trade_no of this kind's intents starts with it; no prefix is another's prefix. */
  prefix: string;
  onPaid(ctx: Ctx, intent: PaymentIntent): Promise<void>;
  onClosed(ctx: Ctx, intent: PaymentIntent): Promise<void>;
  onRefundSettled(ctx: Ctx, refund: PaymentRefund, intent: PaymentIntent): Promise<void>;
  /** Numbers this kind used before it had a prefix (orders placed before the payments module), still to be routed. */
  legacy?: { tradeNo(no: string): boolean; refundNo(no: string): boolean };
}

const INTENT_COLUMNS = `id, kind, key, member_id, out_trade_no, payer_openid, amount_fen, state, prepay_id, expires_at, transaction_id, paid_at,
  paid_after_close, close_reason, refunded_fen, refund_count`;
const REFUND_COLUMNS = 'id, intent_id, key, out_refund_no, amount_fen, reason, state, not_before, error, settled_at';

type Row = Record<string, any>;
const intentOf = (r: Row): PaymentIntent => ({
  id: r.id,
  kind: r.kind,
  key: r.key,
  memberId: r.member_id,
  outTradeNo: r.out_trade_no,
  payerOpenid: r.payer_openid,
  amountFen: r.amount_fen,
  state: r.state,
  prepayId: r.prepay_id,
  expiresAt: new Date(r.expires_at),
  transactionId: r.transaction_id,
  paidAt: r.paid_at ? new Date(r.paid_at) : null,
  paidAfterClose: r.paid_after_close,
  closeReason: r.close_reason,
  refundedFen: r.refunded_fen,
  refundCount: r.refund_count,
});
const refundOf = (r: Row): PaymentRefund => ({
  id: r.id,
  intentId: r.intent_id,
  key: r.key,
  outRefundNo: r.out_refund_no,
  amountFen: r.amount_fen,
  reason: r.reason,
  state: r.state,
  notBefore: new Date(r.not_before),
  error: r.error,
  settledAt: r.settled_at ? new Date(r.settled_at) : null,
});

const MERCHANT_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;

/**
 * Payment intents and refunds for every module that sells something. One intent is one JSAPI order of one payer:
 * several people paying one thing are several intents. Notifications and reconciliation settle intents and refunds
 * through the same two functions, once each, and hand the outcome to the kind that owns the intent.
 */
export class PaymentsService {
  private readonly kinds = new Map<string, PaymentKind>();

  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly gateway: PayGateway,
    private readonly log: FastifyBaseLogger,
  ) {}

  registerKind(k: PaymentKind): void {
    if (!/^[A-Za-z]{1,4}$/.test(k.prefix)) throw new Error(`payment kind ${k.kind}: prefix must be 1–4 letters`);
    if (this.kinds.has(k.kind)) throw new Error(`payment kind ${k.kind} is registered twice`);
    for (const other of this.kinds.values()) {
      if (other.prefix.startsWith(k.prefix) || k.prefix.startsWith(other.prefix)) {
        throw new Error(`payment kind ${k.kind}: prefix ${k.prefix} overlaps ${other.kind}'s ${other.prefix}`);
      }
    }
    this.kinds.set(k.kind, k);
  }

  /** The notification dispatcher hands every payment and refund notification to the intent or refund it names. */
  listen(notifications: WxPayNotificationHandlers): void {
    notifications.on('TRANSACTION.SUCCESS', (ctx, r) => this.settlePayment(ctx, r), { name: 'payments', match: (r) => this.claims(r.out_trade_no, 'trade') });
    notifications.on(
      ['REFUND.SUCCESS', 'REFUND.CLOSED', 'REFUND.ABNORMAL'],
      async (ctx, r) => void (await this.settleRefund(ctx, { outRefundNo: r.out_refund_no, status: r.refund_status, refundId: r.refund_id })),
      { name: 'payments-refund', match: (r) => this.claims(r.out_refund_no, 'refund') },
    );
  }

  /** A number under a registered prefix (or a kind's legacy number) is ours; others on the merchant account are not. */
  private claims(no: string | undefined, what: 'trade' | 'refund'): boolean {
    if (typeof no !== 'string') return false;
    for (const k of this.kinds.values()) {
      if (no.startsWith(k.prefix)) return true;
      if (k.legacy && (what === 'trade' ? k.legacy.tradeNo(no) : k.legacy.refundNo(no))) return true;
    }
    return false;
  }

  private kind(name: string): PaymentKind {
    const k = this.kinds.get(name);
    if (!k) throw unavailable('payment_kind_unknown', `No module handles payments of kind ${name}`);
    return k;
  }

  // ---- Intents ---------------------------------------------------------------------------------------------

  /**
   * An intent for what `kind`'s `key` names (a store order id, a crowdfunding share id); the same key answers the
   * same intent. out_trade_no is the kind's prefix and `tradeNo` (the owner's own number) or a fresh number.
   * Joins the caller's transaction: the intent exists only if the owner's row does.
   */
  async createIntent(
    ctx: Ctx,
    p: { kind: string; key: string; memberId?: string; payerOpenid: string; amountFen: number; description: string; expiresAt: Date; tradeNo?: string },
  ): Promise<PaymentIntent> {
    const k = this.kind(p.kind);
    const outTradeNo = `${k.prefix}${p.tradeNo ?? `${shanghaiDay(new Date()).slice(2).replace(/-/g, '')}${String(randomInt(0, 10_000_000_000)).padStart(10, '0')}`}`;
    if (!MERCHANT_NO.test(outTradeNo)) throw invalid('payment_bad_trade_no', 'out_trade_no must be 6–32 of 0-9 A-Z a-z _ - | *');
    if (!Number.isSafeInteger(p.amountFen) || p.amountFen < 1) throw invalid('payment_bad_amount', 'The amount must be a positive number of fen');
    const [row] = await this.db.rows(
      ctx,
      `INSERT INTO payment_intent (id, kind, key, member_id, out_trade_no, payer_openid, description, amount_fen, state, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) ON CONFLICT (kind, key) DO NOTHING RETURNING ${INTENT_COLUMNS}`,
      [randomUUID(), p.kind, p.key, p.memberId ?? null, outTradeNo, p.payerOpenid, p.description.slice(0, 127), p.amountFen, p.expiresAt],
    );
    return row ? intentOf(row) : (await this.intentByKey(ctx, p.kind, p.key))!;
  }

  async intentByKey(ctx: Ctx, kind: string, key: string): Promise<PaymentIntent | null> {
    const [row] = await this.db.rows(ctx, `SELECT ${INTENT_COLUMNS} FROM payment_intent WHERE kind = $1 AND key = $2`, [kind, key]);
    return row ? intentOf(row) : null;
  }

  async intent(ctx: Ctx, id: string): Promise<PaymentIntent> {
    const [row] = await this.db.rows(ctx, `SELECT ${INTENT_COLUMNS} FROM payment_intent WHERE id = $1`, [id]);
    if (!row) throw notFound('payment_not_found', 'No such payment');
    return intentOf(row);
  }

  /** The signed wx.requestPayment parameters of a pending intent; the JSAPI order is placed on the first call. */
  async paymentParams(ctx: Ctx, intentId: string): Promise<ReturnType<PayGateway['paymentParams']>> {
    const i = await this.intent(ctx, intentId);
    if (i.state !== 'pending' || i.expiresAt.getTime() <= Date.now()) throw conflict('order_not_payable', 'This can no longer be paid');
    let prepayId = i.prepayId;
    if (!prepayId) {
      const [d] = await this.db.rows(ctx, 'SELECT description FROM payment_intent WHERE id = $1', [i.id]);
      try {
        ({ prepayId } = await this.gateway.prepay({ outTradeNo: i.outTradeNo, description: d!.description, amountFen: i.amountFen, payerOpenid: i.payerOpenid, expiresAt: i.expiresAt }));
      } catch (err) {
        this.log.warn({ err, outTradeNo: i.outTradeNo }, 'prepay failed');
        throw unavailable('payment_unavailable', 'WeChat Pay is not reachable; try paying again from the order');
      }
      // Two tabs paying at once keep the first prepay id; reconciliation asks WeChat about it from now on.
      const [stored] = await this.db.rows<{ prepay_id: string }>(
        ctx,
        `UPDATE payment_intent SET prepay_id = COALESCE(prepay_id, $2), check_at = COALESCE(check_at, LEAST(expires_at, now() + make_interval(mins => $3)))
          WHERE id = $1 RETURNING prepay_id`,
        [i.id, prepayId, INTENT_CHECK_MINUTES],
      );
      prepayId = stored!.prepay_id;
    }
    return this.gateway.paymentParams(prepayId);
  }

  /**
   * Closes a pending intent: at WeChat first (once closed there it cannot be paid), then here, where the owner's
   * onClosed runs in the same transaction. True when this call closed it. A payment that beat the close is settled
   * (by query) and answered 409 `order_paid`.
   */
  async close(ctx: Ctx, intentId: string, reason: string): Promise<boolean> {
    if (!(await this.closeAtWeChat(ctx, intentId))) return false;
    return this.markClosed(ctx, intentId, reason);
  }

  /**
   * The first half of close, for a flow step: the order closed at WeChat (idempotent). False when the intent is
   * closed here already; 409 `order_paid` when it was paid (settled by query first).
   */
  async closeAtWeChat(ctx: Ctx, intentId: string): Promise<boolean> {
    const i = await this.intent(ctx, intentId);
    if (i.state !== 'pending') {
      if (i.state === 'paid' && !i.paidAfterClose) throw conflict('order_paid', 'This has just been paid');
      return false;
    }
    if (i.prepayId) {
      try {
        await this.gateway.close(i.outTradeNo);
      } catch (err) {
        if (err instanceof AppError && err.code === 'wxpay_orderpaid') {
          await this.reconcileIntent(ctx, intentId).catch((e) => this.log.warn({ err: e, outTradeNo: i.outTradeNo }, 'paid intent not settled by query'));
          throw conflict('order_paid', 'This has just been paid');
        }
        this.log.warn({ err, outTradeNo: i.outTradeNo }, 'close failed');
        throw unavailable('payment_unavailable', 'WeChat Pay is not reachable; try again');
      }
    }
    return true;
  }

  /** The second half of close: closed here, the owner's onClosed in the same transaction. True when this call closed it. */
  async markClosed(ctx: Ctx, intentId: string, reason: string): Promise<boolean> {
    return this.db.transaction(ctx, async (tx) => {
      const [row] = await this.db.rows(
        tx,
        `UPDATE payment_intent SET state = 'closed', closed_at = now(), close_reason = $2, check_at = NULL
          WHERE id = $1 AND state = 'pending' RETURNING ${INTENT_COLUMNS}`,
        [intentId, reason],
      );
      if (!row) return false;
      const intent = intentOf(row);
      await this.kind(intent.kind).onClosed(tx, intent);
      return true;
    });
  }

  /**
   * A payment as WeChat reports it (notification or query): recorded on its intent once, and the owner's onPaid
   * runs once, in the same transaction. Unknown orders are 404 (WeChat delivers again), a wrong amount 400.
   */
  async settlePayment(ctx: Ctx, t: WxPayTransaction): Promise<void> {
    if (t.trade_state !== 'SUCCESS' && t.trade_state !== 'REFUND') return;
    await this.db.transaction(ctx, async (tx) => {
      const [row] = await this.db.rows(tx, `SELECT ${INTENT_COLUMNS} FROM payment_intent WHERE out_trade_no = $1 FOR UPDATE`, [t.out_trade_no]);
      // Ours by its number yet unknown: not committed yet, or lost; WeChat delivers again.
      if (!row) throw notFound('order_not_found', `No payment ${t.out_trade_no}`);
      const intent = intentOf(row);
      const paid = t.amount?.total ?? 0;
      if (paid !== intent.amountFen) {
        this.log.error({ outTradeNo: intent.outTradeNo, paid, expected: intent.amountFen }, 'payment amount differs from the intent');
        throw invalid('amount_mismatch', 'The paid amount differs from the order');
      }
      if (intent.transactionId) return; // recorded already: the same payment reported again
      const successTime = t.success_time && !Number.isNaN(Date.parse(t.success_time)) ? new Date(t.success_time) : new Date();
      const [updated] = await this.db.rows(
        tx,
        `UPDATE payment_intent SET state = 'paid', transaction_id = $2, paid_at = $3, paid_after_close = (state = 'closed'), check_at = NULL
          WHERE id = $1 AND transaction_id IS NULL RETURNING ${INTENT_COLUMNS}`,
        [intent.id, t.transaction_id ?? null, successTime],
      );
      if (updated) await this.kind(intent.kind).onPaid(tx, intentOf(updated));
    });
  }

  // ---- Refunds ---------------------------------------------------------------------------------------------

  /**
   * Asks for a refund of part or all of a paid intent; the same key answers the same refund. Within WeChat's
   * rules: the reservation is one conditional update of the intent, so the refunds never add up to more than was
   * paid, whatever runs at once; at most 50 per payment and within 365 days of it; a refund within a minute of the
   * previous one waits (it is sent at `notBefore`). Joins the caller's transaction: the request is sent by a job
   * once it commits. The outcome reaches the owner's onRefundSettled.
   */
  async refund(ctx: Ctx, p: { intentId: string; key: string; amountFen: number; reason: string }): Promise<PaymentRefund> {
    if (!Number.isSafeInteger(p.amountFen) || p.amountFen < 1) throw invalid('refund_bad_amount', 'A refund is a positive number of fen');
    return this.db.transaction(ctx, async (tx) => {
      const [earlier] = await this.db.rows(tx, `SELECT ${REFUND_COLUMNS} FROM payment_refund WHERE intent_id = $1 AND key = $2`, [p.intentId, p.key]);
      if (earlier) return refundOf(earlier);
      const [reserved] = await this.db.rows<{ out_trade_no: string; refund_count: number; not_before: Date }>(
        tx,
        `UPDATE payment_intent SET refunded_fen = refunded_fen + $2, refund_count = refund_count + 1,
                last_refund_at = GREATEST(now(), COALESCE(last_refund_at + make_interval(secs => $3), now()))
          WHERE id = $1 AND state = 'paid' AND refunded_fen + $2 <= amount_fen AND refund_count < $4
            AND paid_at > now() - make_interval(days => $5)
          RETURNING out_trade_no, refund_count, last_refund_at AS not_before`,
        [p.intentId, p.amountFen, REFUND_RULES.gapSeconds, REFUND_RULES.maxPerPayment, REFUND_RULES.windowDays],
      );
      if (!reserved) throw await this.refusal(tx, p.intentId, p.amountFen);
      const [row] = await this.db.rows(
        tx,
        `INSERT INTO payment_refund (id, intent_id, key, out_refund_no, amount_fen, reason, state, not_before)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) RETURNING ${REFUND_COLUMNS}`,
        [randomUUID(), p.intentId, p.key, `${reserved.out_trade_no}R${reserved.refund_count}`, p.amountFen, p.reason.slice(0, 80), reserved.not_before],
      );
      const refund = refundOf(row!);
      await this.queue.send(tx, SUBMIT_REFUND, { refundId: refund.id }, { id: refund.id, startAfter: refund.notBefore });
      return refund;
    });
  }

  /** Why a refund was refused, as a stable code. */
  private async refusal(ctx: Ctx, intentId: string, amountFen: number): Promise<AppError> {
    const [i] = await this.db.rows(ctx, 'SELECT state, amount_fen, refunded_fen, refund_count, paid_at FROM payment_intent WHERE id = $1', [intentId]);
    if (!i) return notFound('payment_not_found', 'No such payment');
    if (i.state !== 'paid') return conflict('payment_not_paid', 'Only a paid payment can be refunded');
    if (i.refund_count >= REFUND_RULES.maxPerPayment) return conflict('refund_limit_reached', `A payment takes at most ${REFUND_RULES.maxPerPayment} refunds`);
    if (new Date(i.paid_at).getTime() <= Date.now() - REFUND_RULES.windowDays * 86_400_000) {
      return conflict('refund_window_closed', `A payment can be refunded within ${REFUND_RULES.windowDays} days`);
    }
    return conflict('refund_exceeds_paid', `At most ${i.amount_fen - i.refunded_fen} fen of this payment can still be refunded`, {
      refundableFen: i.amount_fen - i.refunded_fen,
      requestedFen: amountFen,
    });
  }

  async refundsOf(ctx: Ctx, intentId: string): Promise<PaymentRefund[]> {
    return (await this.db.rows(ctx, `SELECT ${REFUND_COLUMNS} FROM payment_refund WHERE intent_id = $1 ORDER BY created_at, out_refund_no`, [intentId])).map(refundOf);
  }

  /**
   * Sends a pending refund to WeChat (the job, reconciliation, or the caller right after commit). A retry sends the
   * same out_refund_no. WeChat's answer moves it to processing only: notification or query settles it. A refusal
   * (4xx) fails it and gives the reservation back; an unreachable WeChat throws, and the job retries.
   */
  async submitRefund(ctx: Ctx, refundId: string): Promise<void> {
    const [r] = await this.db.rows(
      ctx,
      `SELECT r.id, r.out_refund_no, r.amount_fen, r.reason, r.state, r.not_before, i.out_trade_no, i.amount_fen AS total_fen
         FROM payment_refund r JOIN payment_intent i ON i.id = r.intent_id WHERE r.id = $1`,
      [refundId],
    );
    if (!r || r.state !== 'pending' || new Date(r.not_before).getTime() > Date.now()) return;
    let accepted;
    try {
      accepted = await this.gateway.refund({ outTradeNo: r.out_trade_no, outRefundNo: r.out_refund_no, refundFen: r.amount_fen, totalFen: r.total_fen, reason: r.reason });
    } catch (err) {
      const kind = err instanceof AppError ? err.kind : 'unavailable';
      if (kind === 'unavailable' || kind === 'rate_limited') throw err;
      this.log.warn({ err, outRefundNo: r.out_refund_no }, 'refund refused by WeChat Pay');
      await this.finishRefund(ctx, r.out_refund_no, 'failed', { error: (err as Error).message.slice(0, 500), from: ['pending'] });
      return;
    }
    await this.db.rows(
      ctx,
      `UPDATE payment_refund SET state = 'processing', refund_id = $2, submitted_at = now(), check_at = now() + make_interval(mins => $3)
        WHERE id = $1 AND state = 'pending'`,
      [refundId, accepted.refund_id ?? null, REFUND_CHECK_MINUTES],
    );
  }

  /** Withdraws a refund never sent (a flow's undo): failed, its reservation given back. False once it was sent. */
  async withdrawRefund(ctx: Ctx, refundId: string): Promise<boolean> {
    return this.db.transaction(ctx, async (tx) => {
      const [r] = await this.db.rows(
        tx,
        "UPDATE payment_refund SET state = 'failed', error = 'withdrawn', settled_at = now(), check_at = NULL WHERE id = $1 AND state = 'pending' RETURNING intent_id, amount_fen",
        [refundId],
      );
      if (!r) return false;
      await this.db.rows(tx, 'UPDATE payment_intent SET refunded_fen = refunded_fen - $2 WHERE id = $1', [r.intent_id, r.amount_fen]);
      return true;
    });
  }

  /** A refund outcome as WeChat reports it (notification or query); settled once, the owner told in the same transaction. */
  async settleRefund(ctx: Ctx, e: { outRefundNo: string; status: RefundStatus; refundId?: string }): Promise<boolean> {
    if (e.status === 'PROCESSING') return false;
    return this.finishRefund(ctx, e.outRefundNo, e.status === 'SUCCESS' ? 'succeeded' : 'failed', {
      error: e.status === 'SUCCESS' ? null : `refund ${e.status}`,
      refundId: e.refundId,
      from: ['pending', 'processing'],
    });
  }

  private async finishRefund(
    ctx: Ctx,
    outRefundNo: string,
    state: 'succeeded' | 'failed',
    o: { error: string | null; refundId?: string; from: string[] },
  ): Promise<boolean> {
    return this.db.transaction(ctx, async (tx) => {
      const [row] = await this.db.rows(
        tx,
        `UPDATE payment_refund SET state = $2, error = $3, refund_id = COALESCE($4, refund_id), settled_at = now(), check_at = NULL
          WHERE out_refund_no = $1 AND state = ANY($5::text[]) RETURNING ${REFUND_COLUMNS}`,
        [outRefundNo, state, o.error, o.refundId ?? null, o.from],
      );
      if (!row) {
        // Unknown here (a refund made in the merchant platform) or settled already: a repeated notification.
        const [known] = await this.db.rows(tx, 'SELECT state FROM payment_refund WHERE out_refund_no = $1', [outRefundNo]);
        if (!known) this.log.warn({ outRefundNo }, 'refund notification for a refund this shop did not ask for: recorded only');
        else if (known.state !== state) this.log.error({ outRefundNo, was: known.state, now: state }, 'refund reported with another outcome after it settled');
        return false;
      }
      const refund = refundOf(row);
      // A failed refund gives its reservation back: that money can be refunded again (under a new out_refund_no).
      const [intentRow] =
        state === 'failed'
          ? await this.db.rows(tx, `UPDATE payment_intent SET refunded_fen = refunded_fen - $2 WHERE id = $1 RETURNING ${INTENT_COLUMNS}`, [refund.intentId, refund.amountFen])
          : await this.db.rows(tx, `SELECT ${INTENT_COLUMNS} FROM payment_intent WHERE id = $1`, [refund.intentId]);
      const intent = intentOf(intentRow!);
      await this.kind(intent.kind).onRefundSettled(tx, refund, intent);
      return true;
    });
  }

  // ---- Reconciliation --------------------------------------------------------------------------------------

  /** Asks WeChat about one pending intent and settles it as a notification would; closes it at WeChat once expired. */
  async reconcileIntent(ctx: Ctx, intentId: string, now = new Date()): Promise<'paid' | 'closed' | 'pending'> {
    const i = await this.intent(ctx, intentId);
    if (i.state !== 'pending') return i.state;
    const expired = i.expiresAt.getTime() <= now.getTime();
    if (!i.prepayId) {
      if (!expired) return 'pending';
      return (await this.markClosed(ctx, i.id, 'expired')) ? 'closed' : (await this.intent(ctx, i.id)).state;
    }
    const t = await this.gateway.query(i.outTradeNo);
    if (t && (t.trade_state === 'SUCCESS' || t.trade_state === 'REFUND')) {
      await this.settlePayment(ctx, t);
      return 'paid';
    }
    const closedThere = !t || t.trade_state === 'CLOSED' || t.trade_state === 'REVOKED' || t.trade_state === 'PAYERROR';
    if (!expired && !closedThere) {
      await this.db.rows(ctx, "UPDATE payment_intent SET check_at = LEAST(expires_at, now() + make_interval(mins => $2)) WHERE id = $1 AND state = 'pending'", [
        i.id,
        INTENT_CHECK_MINUTES,
      ]);
      return 'pending';
    }
    if (!closedThere) {
      try {
        await this.close(ctx, i.id, 'expired');
        return 'closed';
      } catch (err) {
        if (err instanceof AppError && err.code === 'order_paid') return 'paid';
        throw err;
      }
    }
    await this.markClosed(ctx, i.id, 'expired');
    return 'closed';
  }

  /** Asks WeChat about one open refund: a settled one is settled here, an unknown one is sent again (same number). */
  async reconcileRefund(ctx: Ctx, refundId: string): Promise<PaymentRefund['state']> {
    const [r] = await this.db.rows(ctx, 'SELECT out_refund_no, state, not_before FROM payment_refund WHERE id = $1', [refundId]);
    if (!r || (r.state !== 'pending' && r.state !== 'processing')) return r?.state;
    const found = await this.gateway.queryRefund(r.out_refund_no);
    if (!found) {
      await this.db.rows(ctx, "UPDATE payment_refund SET state = 'pending' WHERE id = $1 AND state = 'processing'", [refundId]);
      await this.submitRefund(ctx, refundId);
    } else if (found.status === 'PROCESSING') {
      await this.db.rows(
        ctx,
        `UPDATE payment_refund SET state = 'processing', refund_id = $2, submitted_at = COALESCE(submitted_at, now()), check_at = now() + make_interval(mins => $3)
          WHERE id = $1 AND state IN ('pending', 'processing')`,
        [refundId, found.refund_id, REFUND_CHECK_MINUTES],
      );
    } else {
      await this.settleRefund(ctx, { outRefundNo: r.out_refund_no, status: found.status, refundId: found.refund_id });
    }
    const [after] = await this.db.rows(ctx, 'SELECT state FROM payment_refund WHERE id = $1', [refundId]);
    return after!.state;
  }

  /**
   * The scheduled sweep: pending intents whose check time or expiry has come (a notification that never came, an
   * order nobody paid), refunds still processing past their check time, and pending refunds whose job was lost.
   */
  async reconcile(ctx: Ctx, now = new Date()): Promise<{ intents: Record<string, number>; refunds: Record<string, number>; errors: number }> {
    const intents: Record<string, number> = {};
    const refunds: Record<string, number> = {};
    let errors = 0;
    const due = await this.db.rows<{ id: string; out_trade_no: string }>(
      ctx,
      `SELECT id, out_trade_no FROM payment_intent WHERE state = 'pending' AND (check_at <= $1 OR expires_at <= $1) ORDER BY expires_at LIMIT 200`,
      [now],
    );
    for (const d of due) {
      try {
        const outcome = await this.reconcileIntent(ctx, d.id, now);
        intents[outcome] = (intents[outcome] ?? 0) + 1;
      } catch (err) {
        errors++;
        this.log.warn({ err, outTradeNo: d.out_trade_no }, 'intent not reconciled: next sweep');
      }
    }
    const open = await this.db.rows<{ id: string; out_refund_no: string }>(
      ctx,
      `SELECT id, out_refund_no FROM payment_refund
        WHERE (state = 'processing' AND check_at <= $1) OR (state = 'pending' AND not_before <= $1::timestamptz - interval '2 minutes')
        ORDER BY created_at LIMIT 200`,
      [now],
    );
    for (const r of open) {
      try {
        const outcome = await this.reconcileRefund(ctx, r.id);
        refunds[outcome] = (refunds[outcome] ?? 0) + 1;
      } catch (err) {
        errors++;
        this.log.warn({ err, outRefundNo: r.out_refund_no }, 'refund not reconciled: next sweep');
      }
    }
    return { intents, refunds, errors };
  }
}
