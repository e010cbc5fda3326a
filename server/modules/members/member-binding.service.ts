import type { Ctx, Db } from '../../infra/db';
import { AppError, conflict, invalid, notFound, rateLimited } from '../../infra/errors';
import type { KvStore } from '../../infra/kv';
import type { PointsService } from '../points/points.service';
import type { MembersService } from './members.service';
import { normalizePhone, phoneHash } from './member-identity';

export interface BindResult {
  memberId: string;
  orderNo: string;
  channel: { kind: string; name: string };
  /** The Taobao buyer as the export shows it (already masked by Taobao). */
  buyerNick: string | null;
  /** Orders of this buyer now linked to the member (including earlier bound ones). */
  ordersBound: number;
  /** True when this member had already bound this buyer: binding again changes nothing. */
  alreadyBound: boolean;
  /** Points the newly linked orders brought (0 when already bound). */
  pointsAwarded: number;
}

export const BIND_FAILURE_LIMIT = 5;
const BIND_FAILURE_WINDOW_MS = 3_600_000;
/** The outcomes that count as a wrong guess; the others (bound, already bound elsewhere) give their count back. */
const WRONG_GUESSES = new Set(['order_not_found', 'phone_mismatch']);

/**
 * Links a member to Taobao buyers: by an order number and the last four digits of the receiver's phone (the parcel
 * and mini-program flows), or by a verified full phone number when ERP exports carry them.
 */
export class MemberBindingService {
  constructor(
    private readonly db: Db,
    private readonly kv: KvStore,
    private readonly members: MembersService,
    private readonly points: PointsService,
    private readonly phoneKey: string,
  ) {}

  /**
   * Binds the Taobao buyer of `orderNo` to the member; all that buyer's orders (and later imports) follow.
   * Errors: `order_not_found` (404), `phone_mismatch` (400), `already_bound_to_other` (409),
   * `too_many_attempts` (429, after 5 wrong tries in an hour per member). The member id comes from the session.
   */
  async bindTaobaoOrder(ctx: Ctx, memberId: string, orderNo: string, phoneLast4: string): Promise<BindResult> {
    const id = await this.members.resolve(ctx, memberId);
    const no = orderNo.trim().replace(/^="?|"$/g, '');
    if (!/^\d{6,25}$/.test(no)) throw invalid('invalid_order_no', 'An order number is 6–25 digits');
    if (!/^\d{4}$/.test(phoneLast4)) throw invalid('invalid_phone_last4', 'Give the last four digits of the receiver phone');
    // Every guess is counted before it is judged, so guesses arriving together cannot all read a count under the limit
    // (the member's, across sessions and channels); a guess that turns out not wrong gives its count back.
    const failKey = `bind-fail:${id}`;
    const { count } = await this.kv.incr(failKey, BIND_FAILURE_WINDOW_MS);
    if (count > BIND_FAILURE_LIMIT) throw rateLimited('too_many_attempts', 'Too many wrong attempts; try again in an hour');
    let wrong = false;
    try {
      return await this.judge(ctx, id, no, phoneLast4);
    } catch (err) {
      wrong = err instanceof AppError && WRONG_GUESSES.has(err.code);
      throw err;
    } finally {
      if (!wrong) await this.kv.decr(failKey);
    }
  }

  private async judge(ctx: Ctx, id: string, no: string, phoneLast4: string): Promise<BindResult> {
    const [order] = (await this.db.rows(ctx, `SELECT o.id, o.buyer_key, o.buyer_nick, o.member_id, o.phone_last4, o.channel_id, c.kind, c.name
         FROM sales_order o JOIN sales_channel c ON c.id = o.channel_id
        WHERE o.order_no = $1 AND c.kind IN ('taobao', 'tmall') AND o.erased_at IS NULL
        ORDER BY o.updated_at DESC LIMIT 1`,
      [no],
    )) as Array<{ id: string; buyer_key: string | null; buyer_nick: string | null; member_id: string | null; phone_last4: string | null; channel_id: string; kind: string; name: string }>;
    if (!order || !order.buyer_key) {
      throw notFound('order_not_found', 'No imported Taobao order with that number');
    }
    if (order.phone_last4 !== phoneLast4) {
      throw invalid('phone_mismatch', 'The phone digits do not match that order');
    }
    const result = await this.db.transaction(ctx, async (tx) => {
      if (order.member_id && order.member_id !== id) {
        throw conflict('already_bound_to_other', 'That order is already bound to another member');
      }
      const claimed = (await this.db.rows(
        tx,
        `INSERT INTO member_identity (member_id, kind, value, display, channel_id) VALUES ($1, 'taobao_buyer', $2, $3, $4)
         ON CONFLICT (kind, value) DO NOTHING RETURNING id`,
        [id, order.buyer_key, order.buyer_nick, order.channel_id],
      )) as unknown[];
      let alreadyBound = false;
      if (claimed.length === 0) {
        const [owner] = (await this.db.rows(tx, "SELECT member_id FROM member_identity WHERE kind = 'taobao_buyer' AND value = $1", [order.buyer_key])) as Array<{
          member_id: string;
        }>;
        if (owner?.member_id !== id) throw conflict('already_bound_to_other', 'That order is already bound to another member');
        alreadyBound = true;
      }
      await this.db.rows(tx, 'UPDATE sales_order SET member_id = $1, updated_at = now() WHERE buyer_key = $2 AND member_id IS NULL', [id, order.buyer_key]);
      const [count] = (await this.db.rows(tx, 'SELECT count(*) AS n FROM sales_order WHERE buyer_key = $1 AND member_id = $2', [order.buyer_key, id])) as Array<{ n: string }>;
      if (!alreadyBound) await this.members.audit(tx, id, 'bind_taobao', 'member', { orderNo: no, channel: order.name });
      return { alreadyBound, ordersBound: Number(count!.n) };
    });
    const before = await this.points.balance(ctx, id);
    if (!result.alreadyBound) await this.members.refresh(ctx, [id], 'taobao order bound');
    const pointsAwarded = result.alreadyBound ? 0 : Math.max((await this.points.balance(ctx, id)) - before, 0);
    return {
      memberId: id,
      orderNo: no,
      channel: { kind: order.kind, name: order.name },
      buyerNick: order.buyer_nick,
      ordersBound: result.ordersBound,
      alreadyBound: result.alreadyBound,
      pointsAwarded,
    };
  }

  /**
   * Records a member's verified phone (e.g. from the mini-program's phone authorisation) as a keyed hash and links
   * the orders that carry the same full phone (ERP exports with decryption rights). Error: `phone_bound_to_other`.
   */
  async attachPhone(ctx: Ctx, memberId: string, phone: string): Promise<{ ordersLinked: number }> {
    const id = await this.members.resolve(ctx, memberId);
    const normal = normalizePhone(phone);
    if (!normal) throw invalid('invalid_phone', 'Not a mainland mobile number');
    const hash = phoneHash(this.phoneKey, normal);
    const linked = await this.db.transaction(ctx, async (tx) => {
      const claimed = (await this.db.rows(
        tx,
        `INSERT INTO member_identity (member_id, kind, value, display) VALUES ($1, 'phone', $2, $3)
         ON CONFLICT (kind, value) DO NOTHING RETURNING id`,
        [id, hash, `${normal.slice(0, 3)}****${normal.slice(7)}`],
      )) as unknown[];
      if (claimed.length === 0) {
        const [owner] = (await this.db.rows(tx, "SELECT member_id FROM member_identity WHERE kind = 'phone' AND value = $1", [hash])) as Array<{ member_id: string }>;
        if (owner?.member_id !== id) throw conflict('phone_bound_to_other', 'That phone belongs to another member');
      }
      const linked = await this.db.rows(tx, 'UPDATE sales_order SET member_id = $1, updated_at = now() WHERE phone_hash = $2 AND member_id IS NULL RETURNING id', [id, hash]);
      return linked.length;
    });
    if (linked > 0) await this.members.refresh(ctx, [id], 'phone linked');
    return { ordersLinked: linked };
  }
}
