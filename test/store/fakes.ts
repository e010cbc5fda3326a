/**
 * TEST-ONLY stand-ins for the ports of the store module (the member ledger, tiers, WeChat Pay, WeChat login).
 * The real adapters (member ledger; WeChat Pay client against the sandbox) replace them at merge.
 */
import { createHash, createVerify, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { AppPorts } from '../../server/app';
import { systemCtx, type Ctx, type Db } from '../../server/infra/db';
import { conflict } from '../../server/infra/errors';
import type { MemberTier, MemberTiers, PaymentParams, PointsHistoryPage, StorePayments, StorePoints } from '../../server/modules/store/store.ports';
import { rows } from '../../server/modules/store/store-sql';
import { buildTestApp, type TestApp } from '../helpers/app';

/**
 * An honest points ledger in the test database: entries unique by idempotency key, a balance that a CHECK keeps
 * from going negative, all inside the caller's transaction (so a rolled-back checkout rolls the points back too).
 */
export class FakePoints implements StorePoints {
  private db?: Db;

  async attach(db: Db): Promise<void> {
    this.db = db;
    await rows(db, systemCtx, `CREATE TABLE IF NOT EXISTS fake_points_balance (member_id uuid PRIMARY KEY, balance integer NOT NULL CHECK (balance >= 0))`);
    await rows(
      db,
      systemCtx,
      `CREATE TABLE IF NOT EXISTS fake_points_entry (id bigserial PRIMARY KEY, key text NOT NULL UNIQUE, member_id uuid NOT NULL,
         delta integer NOT NULL, reason text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    );
  }

  private get d(): Db {
    if (!this.db) throw new Error('FakePoints.attach(db) first');
    return this.db;
  }

  async grant(memberId: string, points: number): Promise<number> {
    return this.credit(systemCtx, memberId, points, `grant:${randomBytes(8).toString('hex')}`, 'test grant');
  }

  credit(ctx: Ctx, memberId: string, points: number, key: string, reason: string): Promise<number> {
    return this.move(ctx, memberId, points, key, reason);
  }

  debit(ctx: Ctx, memberId: string, points: number, key: string, reason: string): Promise<number> {
    return this.move(ctx, memberId, -points, key, reason);
  }

  async clawback(ctx: Ctx, memberId: string, points: number, key: string, reason: string): Promise<number> {
    return this.d.transaction(ctx, async (tx) => {
      const [b] = await rows<{ balance: number }>(this.d, tx, 'SELECT balance FROM fake_points_balance WHERE member_id = $1 FOR UPDATE', [memberId]);
      const taken = Math.min(points, b?.balance ?? 0);
      const [e] = await rows(this.d, tx, 'INSERT INTO fake_points_entry (key, member_id, delta, reason) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING RETURNING id', [
        key,
        memberId,
        -taken,
        reason,
      ]);
      if (!e) {
        const [prev] = await rows<{ delta: number }>(this.d, tx, 'SELECT delta FROM fake_points_entry WHERE key = $1', [key]);
        return -prev!.delta;
      }
      await rows(this.d, tx, 'UPDATE fake_points_balance SET balance = balance - $2 WHERE member_id = $1', [memberId, taken]);
      return taken;
    });
  }

  private async move(ctx: Ctx, memberId: string, delta: number, key: string, reason: string): Promise<number> {
    return this.d.transaction(ctx, async (tx) => {
      const [e] = await rows(this.d, tx, 'INSERT INTO fake_points_entry (key, member_id, delta, reason) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING RETURNING id', [
        key,
        memberId,
        delta,
        reason,
      ]);
      if (!e) return this.balance(tx, memberId);
      await rows(this.d, tx, 'INSERT INTO fake_points_balance (member_id, balance) VALUES ($1, 0) ON CONFLICT DO NOTHING', [memberId]);
      const [b] = await rows<{ balance: number }>(
        this.d,
        tx,
        'UPDATE fake_points_balance SET balance = balance + $2 WHERE member_id = $1 AND balance + $2 >= 0 RETURNING balance',
        [memberId, delta],
      );
      if (!b) throw conflict('insufficient_points', 'Not enough points');
      return b.balance;
    });
  }

  async balance(ctx: Ctx, memberId: string): Promise<number> {
    const [b] = await rows<{ balance: number }>(this.d, ctx, 'SELECT balance FROM fake_points_balance WHERE member_id = $1', [memberId]);
    return b?.balance ?? 0;
  }

  async history(ctx: Ctx, memberId: string, cursor: string | undefined, limit: number): Promise<PointsHistoryPage> {
    const list = await rows<{ id: string; delta: number; reason: string; created_at: Date }>(
      this.d,
      ctx,
      'SELECT id::text, delta, reason, created_at FROM fake_points_entry WHERE member_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3',
      [memberId, cursor ?? null, limit + 1],
    );
    const page = list.slice(0, limit);
    return {
      items: page.map((r) => ({ id: r.id, delta: r.delta, reason: r.reason, createdAt: new Date(r.created_at) })),
      nextCursor: list.length > limit ? page[page.length - 1]!.id : null,
    };
  }
}

export const BASE_TIER: MemberTier = { code: 'normal', discountPercent: 0, freeShipping: false, pointsMultiplier: 1 };

export class FakeTiers implements MemberTiers {
  readonly tiers = new Map<string, MemberTier>();
  async tierOf(_ctx: Ctx, memberId: string): Promise<MemberTier> {
    return this.tiers.get(memberId) ?? BASE_TIER;
  }
}

/** WeChat Pay as the store sees it; signs wx.requestPayment parameters with a key made for this test run. */
export class FakePayments implements StorePayments {
  readonly appId = 'wxtestappid000001';
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  readonly prepays = new Map<string, { prepayId: string; amountFen: number; payerOpenid: string; expiresAt: Date; description: string }>();
  readonly closed = new Set<string>();
  readonly paid = new Set<string>();
  readonly refunds: Array<{ outTradeNo: string; outRefundNo: string; refundFen: number; totalFen: number; reason: string }> = [];
  readonly uploads: Array<Parameters<StorePayments['uploadShipping']>[0]> = [];
  failPrepay = false;
  failUploads = 0;

  async prepay(input: Parameters<StorePayments['prepay']>[0]): Promise<{ prepayId: string }> {
    if (this.failPrepay) throw new Error('SYSTEM_ERROR');
    if (input.outTradeNo.length < 6 || input.outTradeNo.length > 32) throw new Error('out_trade_no must be 6-32 characters');
    const known = this.prepays.get(input.outTradeNo);
    if (known) return { prepayId: known.prepayId };
    const prepayId = `wx${randomBytes(14).toString('hex')}`;
    this.prepays.set(input.outTradeNo, { prepayId, ...input });
    return { prepayId };
  }

  paymentParams(prepayId: string): PaymentParams {
    const timeStamp = String(Math.floor(Date.now() / 1000));
    const nonceStr = randomBytes(16).toString('hex');
    const pkg = `prepay_id=${prepayId}`;
    const paySign = sign('RSA-SHA256', Buffer.from(`${this.appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`), this.keys.privateKey).toString('base64');
    return { timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
  }

  verify(p: PaymentParams): boolean {
    return createVerify('RSA-SHA256').update(`${this.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`).verify(this.keys.publicKey, p.paySign, 'base64');
  }

  /** The member pays in WeChat: what the notification then reports. */
  pay(outTradeNo: string): { outTradeNo: string; transactionId: string; amountFen: number; payerOpenid: string } {
    const p = this.prepays.get(outTradeNo);
    if (!p) throw new Error(`no prepay for ${outTradeNo}`);
    if (this.closed.has(outTradeNo)) throw new Error('ORDER_CLOSED');
    this.paid.add(outTradeNo);
    return { outTradeNo, transactionId: `4200${createHash('sha256').update(outTradeNo).digest('hex').slice(0, 24)}`, amountFen: p.amountFen, payerOpenid: p.payerOpenid };
  }

  async refund(input: Parameters<StorePayments['refund']>[0]): Promise<void> {
    if (!this.paid.has(input.outTradeNo)) throw new Error('TRADE_NOT_PAID');
    this.refunds.push(input);
  }

  async close(outTradeNo: string): Promise<void> {
    if (this.paid.has(outTradeNo)) throw conflict('order_paid', 'ORDERPAID');
    this.closed.add(outTradeNo);
  }

  async uploadShipping(input: Parameters<StorePayments['uploadShipping']>[0]): Promise<void> {
    if (this.failUploads > 0) {
      this.failUploads--;
      throw new Error('system error (errcode -1)');
    }
    this.uploads.push(input);
  }
}

/** jscode2session: the code names the openid; a code starting with "bad" is refused. */
export const fakeMpLogin: AppPorts['mpLogin'] = {
  async code2Session(code) {
    if (code.startsWith('bad')) throw new Error('invalid code (40029)');
    return { openid: `o_${code}`, sessionKey: randomBytes(16).toString('base64') };
  },
};

/** One member per openid, with a stable id. */
export const fakeMpMembers: AppPorts['mpMembers'] = {
  async memberForMpOpenid(_ctx, openid) {
    const h = createHash('sha256').update(openid).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  },
};

export interface StoreKit {
  t: TestApp;
  points: FakePoints;
  tiers: FakeTiers;
  payments: FakePayments;
  /** A member session (through the session service: the HTTP login is rate-limited per address). */
  member(name: string): Promise<{ memberId: string; headers: { authorization: string } }>;
  admin: { authorization: string };
}

export async function storeKit(env: Record<string, string> = {}): Promise<StoreKit> {
  const points = new FakePoints();
  const tiers = new FakeTiers();
  const payments = new FakePayments();
  const t = await buildTestApp(env, {
    mpLogin: fakeMpLogin,
    mpMembers: fakeMpMembers,
    memberCard: async (id) => ({ id }),
    storePoints: points,
    memberTiers: tiers,
    storePayments: payments,
  });
  await points.attach(t.app.infra.db);
  return {
    t,
    points,
    tiers,
    payments,
    async member(name) {
      const s = await t.app.services.mpSessions.login(systemCtx, name);
      return { memberId: s.memberId, headers: { authorization: `Bearer ${s.token}` } };
    },
    admin: await t.ownerAuth(),
  };
}
