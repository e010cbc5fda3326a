import type { FastifyBaseLogger } from 'fastify';
import type { Ctx, Db } from '../../infra/db';
import { invalid, unauthorized, unavailable } from '../../infra/errors';
import { decryptResource } from './wxpay-crypto';
import type { SignedHeaders, WxPayVerifier } from './wxpay-keys';
import type { WxPayEventResources, WxPayEventType, WxPayNotificationEnvelope } from './wxpay.types';

/** What a handler learns besides the decrypted resource. */
export interface WxPayNoticeMeta {
  readonly notificationId: string;
  readonly eventType: WxPayEventType;
  readonly createTime: string;
  readonly summary?: string;
}

/**
 * A module's reaction to a notification. It runs inside the transaction that records the notification, through
 * `ctx` only (never another connection): if it throws, nothing is recorded and WeChat delivers again. Slow work
 * goes to the queue (`queue.send(ctx, …)` joins the transaction).
 */
export type WxPayHandler<E extends WxPayEventType> = (ctx: Ctx, resource: WxPayEventResources[E], meta: WxPayNoticeMeta) => Promise<void>;

export interface WxPayHandlerOptions<E extends WxPayEventType> {
  /** Who handles it (logged and stored with the notification): 'review-reward', 'store'. */
  name: string;
  /** Claims only some notifications, e.g. by out_trade_no / out_bill_no prefix; default all of the event type. */
  match?: (resource: WxPayEventResources[E]) => boolean;
}

/** The registration interface later modules see: `notifications.on('TRANSACTION.SUCCESS', handler, { name, match })`. */
export interface WxPayNotificationHandlers {
  on<E extends WxPayEventType>(events: E | readonly E[], handler: WxPayHandler<E>, opts: WxPayHandlerOptions<E>): void;
}

export type NotificationOutcome = 'processed' | 'duplicate';

/** The notifications kept about a module's payments, as the module's erasure sees them. */
export interface WxPayNotificationRecords {
  /** Removes the payer (openid, receiving account, name) from the stored notifications about these payments. */
  forgetPayers(ctx: Ctx, refs: { outTradeNos?: readonly string[]; outBillNos?: readonly string[] }): Promise<number>;
}

/** What a decrypted notification says about the person: the payer's openid, the transfer's receiver, their account. */
const PERSONAL_RESOURCE_FIELDS = ['payer', 'openid', 'user_name', 'user_received_account'];

interface Registration {
  name: string;
  handler: (ctx: Ctx, resource: unknown, meta: WxPayNoticeMeta) => Promise<void>;
  match?: (resource: unknown) => boolean;
}

const KNOWN_EVENTS: readonly WxPayEventType[] = ['TRANSACTION.SUCCESS', 'REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED', 'MCHTRANSFER.BILL.FINISHED'];

/**
 * Receives WeChat Pay notifications: verifies the signature over the raw body (public key or platform certificate,
 * chosen by Wechatpay-Serial, within the timestamp window), decrypts the resource, and dispatches it to the
 * registered handlers exactly once per notification id and per business key, across instances.
 */
export class WxPayNotificationService implements WxPayNotificationHandlers, WxPayNotificationRecords {
  private readonly handlers = new Map<string, Registration[]>();

  constructor(
    private readonly db: Db,
    /** Absent when WeChat Pay is off (production without credentials): every delivery is refused with 503. */
    private readonly keys: { verifier: WxPayVerifier; apiV3Key: string } | undefined,
    private readonly log: FastifyBaseLogger,
  ) {}

  on<E extends WxPayEventType>(events: E | readonly E[], handler: WxPayHandler<E>, opts: WxPayHandlerOptions<E>): void {
    for (const event of (Array.isArray(events) ? events : [events]) as E[]) {
      if (!KNOWN_EVENTS.includes(event)) throw new Error(`unknown WeChat Pay event ${event}`);
      const list = this.handlers.get(event) ?? [];
      list.push({
        name: opts.name,
        handler: handler as Registration['handler'],
        match: opts.match as Registration['match'],
      });
      this.handlers.set(event, list);
    }
  }

  async forgetPayers(ctx: Ctx, refs: { outTradeNos?: readonly string[]; outBillNos?: readonly string[] }): Promise<number> {
    const trades = refs.outTradeNos ?? [];
    const bills = refs.outBillNos ?? [];
    if (trades.length === 0 && bills.length === 0) return 0;
    const rows = await this.db.rows(
      ctx,
      `UPDATE wxpay_notification SET resource = (resource - $3::text[]) || '{"payer_erased":true}'::jsonb
        WHERE (resource->>'out_trade_no' = ANY($1::text[]) OR resource->>'out_bill_no' = ANY($2::text[]))
          AND resource ?| $3::text[]
        RETURNING 1`,
      [trades, bills, PERSONAL_RESOURCE_FIELDS],
    );
    return rows.length;
  }

  /** Verifies, decrypts and processes one delivery; throws AppError (401 forged/stale, 400 malformed). */
  async receive(ctx: Ctx, headers: SignedHeaders, rawBody: string): Promise<{ outcome: NotificationOutcome; notificationId: string; eventType: string }> {
    if (!this.keys) throw unavailable('wxpay_not_configured', 'WeChat Pay is not configured');
    const check = this.keys.verifier.verify(headers, rawBody);
    if (!check.ok) throw unauthorized(`wxpay_notify_${check.reason}`, `Notification refused: ${check.reason.replace(/_/g, ' ')}`);

    const envelope = parseEnvelope(rawBody);
    let plaintext: string;
    try {
      plaintext = decryptResource(this.keys.apiV3Key, envelope.resource);
    } catch {
      // Signed by WeChat yet undecryptable: the APIv3 key is wrong here; refuse so WeChat retries after the fix.
      this.log.error({ notificationId: envelope.id, eventType: envelope.event_type }, 'WeChat Pay notification could not be decrypted: check WXPAY_APIV3_KEY');
      throw invalid('wxpay_notify_undecryptable', 'Notification resource could not be decrypted');
    }
    let resource: Record<string, unknown>;
    try {
      resource = JSON.parse(plaintext) as Record<string, unknown>;
    } catch {
      throw invalid('wxpay_notify_malformed', 'Notification resource is not JSON');
    }
    const outcome = await this.process(ctx, envelope, resource, check.serial);
    return { outcome, notificationId: envelope.id, eventType: envelope.event_type };
  }

  private async process(ctx: Ctx, env: WxPayNotificationEnvelope, resource: Record<string, unknown>, serial: string): Promise<NotificationOutcome> {
    const eventType = env.event_type as WxPayEventType;
    const meta: WxPayNoticeMeta = { notificationId: env.id, eventType, createTime: env.create_time, summary: env.summary };
    const regs = (this.handlers.get(eventType) ?? []).filter((r) => !r.match || r.match(resource));
    const notifiedAt = Number.isNaN(Date.parse(env.create_time)) ? new Date() : new Date(env.create_time);
    return this.db.transaction(ctx, async (tx) => {
      // The insert is the claim: a redelivery, or the same payment under another id, conflicts and does nothing.
      const rows: { notification_id: string }[] = await this.db.em(tx).query(
        `INSERT INTO wxpay_notification (notification_id, event_type, business_key, resource, signature_serial, handled_by, notified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING notification_id`,
        [env.id, env.event_type, businessKey(env, resource), JSON.stringify(resource), serial, regs.map((r) => r.name), notifiedAt],
      );
      if (rows.length === 0) return 'duplicate';
      if (regs.length === 0) this.log.warn({ notificationId: env.id, eventType }, 'WeChat Pay notification with no handler: recorded only');
      for (const r of regs) await r.handler(tx, resource, meta);
      return 'processed';
    });
  }
}

function parseEnvelope(rawBody: string): WxPayNotificationEnvelope {
  let body: Partial<WxPayNotificationEnvelope>;
  try {
    body = JSON.parse(rawBody) as Partial<WxPayNotificationEnvelope>;
  } catch {
    throw invalid('wxpay_notify_malformed', 'Notification body is not JSON');
  }
  const r = body?.resource;
  if (
    typeof body?.id !== 'string' || body.id.length === 0 || body.id.length > 64 ||
    typeof body.event_type !== 'string' ||
    typeof body.create_time !== 'string' ||
    !r || r.algorithm !== 'AEAD_AES_256_GCM' || typeof r.ciphertext !== 'string' || typeof r.nonce !== 'string'
  ) {
    throw invalid('wxpay_notify_malformed', 'Notification is missing id, event_type, create_time or an AEAD_AES_256_GCM resource');
  }
  return body as WxPayNotificationEnvelope;
}

/** The natural key of what a notification reports: one payment, one refund outcome, one transfer outcome. */
function businessKey(env: WxPayNotificationEnvelope, r: Record<string, unknown>): string {
  const s = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  if (env.event_type === 'TRANSACTION.SUCCESS' && s(r.transaction_id)) return `transaction:${r.transaction_id}`;
  if (env.event_type.startsWith('REFUND.') && s(r.refund_id)) return `refund:${r.refund_id}:${s(r.refund_status) ?? env.event_type}`;
  if (env.event_type === 'MCHTRANSFER.BILL.FINISHED' && s(r.transfer_bill_no)) return `transfer:${r.transfer_bill_no}:${s(r.state) ?? ''}`;
  return `notification:${env.id}`;
}
