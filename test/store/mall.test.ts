import type { InjectOptions } from 'fastify';
import { storeKit, type StoreKit } from './store-kit';
import { PG_RACE, watchConnections } from '../helpers/race';

let k: StoreKit;
beforeAll(async () => {
  k = await storeKit();
});
afterAll(async () => k.t.close());

const inject = (o: InjectOptions) => k.t.app.inject(o);

async function createItem(body: Record<string, unknown>) {
  const res = await inject({ method: 'POST', url: '/api/admin/mall/items', headers: k.admin, payload: body });
  expect(res.statusCode).toBe(200);
  return res.json() as { id: string; stock: number };
}

async function addAddress(headers: Record<string, string>) {
  const res = await inject({
    method: 'POST',
    url: '/api/mp/addresses',
    headers,
    payload: { name: '李雷', phone: '13812346392', province: '浙江省', city: '杭州市', district: '西湖区', detail: '文三路 1 号' },
  });
  expect(res.statusCode).toBe(200);
  return res.json() as { id: string; phone: string };
}

describe('sessions', () => {
  it('refuses a missing, unknown or expired session', async () => {
    expect((await inject({ method: 'GET', url: '/api/mp/mall/items' })).json().code).toBe('missing_token');
    const bogus = await inject({ method: 'GET', url: '/api/mp/mall/items', headers: { authorization: 'Bearer nope' } });
    expect([bogus.statusCode, bogus.json().code]).toEqual([401, 'invalid_session']);
    const m = await k.member('expiring');
    await k.t.app.infra.db.dataSource.query("UPDATE mp_session SET expires_at = now() - interval '1 second' WHERE member_id = $1", [m.memberId]);
    for (const url of ['/api/mp/mall/items', '/api/mp/orders', '/api/mp/points/history']) {
      const res = await inject({ method: 'GET', url, headers: m.headers });
      expect([res.statusCode, res.json().code]).toEqual([401, 'session_expired']);
    }
  });

  it('logs in over HTTP with a wx.login code, and refuses a bad code', async () => {
    const person = (await k.t.sandbox('POST', '/people', { nickname: 'http-user' })).body;
    const { code } = (await k.t.sandbox('POST', `/people/${person.id}/login-code`, {})).body;
    const ok = await inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
    expect(ok.statusCode).toBe(200);
    // A wx.login code works once.
    const reused = await inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
    expect([reused.statusCode, reused.json().code]).toEqual([401, 'invalid_code']);
    expect(ok.json().privacy.accepted).toBe(false);
    const items = await inject({ method: 'GET', url: '/api/mp/mall/items', headers: { authorization: `Bearer ${ok.json().token}` } });
    expect(items.statusCode).toBe(200);
    const bad = await inject({ method: 'POST', url: '/api/mp/login', payload: { code: 'bad-code' } });
    expect([bad.statusCode, bad.json().code]).toEqual([401, 'invalid_code']);
  });
});

describe('points mall', () => {
  it('redeems a coupon: points debited through the ledger, stock down, coupon in the wallet, history shows it', async () => {
    const coupon = await createItem({ kind: 'coupon', name: '满 50 减 5', pointsCost: 300, stock: 3, perMemberLimit: 2, couponValueFen: 500, couponMinSpendFen: 5000, couponValidDays: 30 });
    const m = await k.member('alice');
    await k.grant(m.memberId, 1000);
    const res = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: coupon.id } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ itemId: coupon.id, pointsSpent: 300, pointsBalance: 700, status: 'fulfilled' });
    const items = (await inject({ method: 'GET', url: '/api/mp/mall/items', headers: m.headers })).json();
    expect(items.find((i: { id: string }) => i.id === coupon.id)).toMatchObject({ stock: 2, redeemedByMe: 1, perMemberLimit: 2, needsAddress: false });
    const wallet = (await inject({ method: 'GET', url: '/api/mp/wallet', headers: m.headers })).json();
    expect(wallet.coupons).toEqual([expect.objectContaining({ name: '满 50 减 5', valueFen: 500, minSpendFen: 5000 })]);
    const history = (await inject({ method: 'GET', url: '/api/mp/points/history', headers: m.headers })).json();
    expect(history.items[0]).toMatchObject({ delta: -300, reason: '兑换 满 50 减 5', code: 'mall_redemption', label: '兑换 满 50 减 5', orderNo: null });
    expect(history.nextCursor).toBeNull();

    // The limit of two per member, enforced by the conditional upsert.
    expect((await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: coupon.id } })).statusCode).toBe(200);
    const third = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: coupon.id } });
    expect([third.statusCode, third.json().code]).toEqual([409, 'limit_reached']);
    expect(await k.balance(m.memberId)).toBe(400);
  });

  it('refuses when points are short, leaving stock and count untouched', async () => {
    const item = await createItem({ kind: 'shipping_card', name: '包邮月卡', pointsCost: 500, stock: 5, shippingCardPeriod: 'monthly' });
    const m = await k.member('poor');
    await k.grant(m.memberId, 499);
    const res = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: item.id } });
    expect([res.statusCode, res.json().code]).toEqual([409, 'insufficient_points']);
    const items = (await inject({ method: 'GET', url: '/api/mp/mall/items', headers: m.headers })).json();
    expect(items.find((i: { id: string }) => i.id === item.id)).toMatchObject({ stock: 5, redeemedByMe: 0 });
    expect(await k.balance(m.memberId)).toBe(499);
  });

  it('a free-shipping card runs from now, a second one extends it', async () => {
    const yearly = await createItem({ kind: 'shipping_card', name: '包邮年卡', pointsCost: 100, stock: 5, shippingCardPeriod: 'yearly' });
    const m = await k.member('card-holder');
    await k.grant(m.memberId, 200);
    for (let i = 0; i < 2; i++) expect((await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: yearly.id } })).statusCode).toBe(200);
    const until = new Date((await inject({ method: 'GET', url: '/api/mp/wallet', headers: m.headers })).json().shippingCardUntil).getTime();
    const years = (until - Date.now()) / (365.25 * 86_400_000);
    expect(years).toBeGreaterThan(1.99);
    expect(years).toBeLessThan(2.01);
  });

  it('a gift needs an address of the member; the merchant ships it', async () => {
    const gift = await createItem({ kind: 'gift', name: '保温杯', pointsCost: 50, stock: 2 });
    const m = await k.member('gift-lover');
    const other = await k.member('someone-else');
    await k.grant(m.memberId, 100);
    const noAddress = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: gift.id } });
    expect([noAddress.statusCode, noAddress.json().code]).toEqual([400, 'address_required']);
    const foreign = await addAddress(other.headers);
    const stolen = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: gift.id, addressId: foreign.id } });
    expect([stolen.statusCode, stolen.json().code]).toEqual([404, 'address_not_found']);
    const mine = await addAddress(m.headers);
    const res = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: gift.id, addressId: mine.id } });
    expect(res.json()).toMatchObject({ status: 'pending_shipment', pointsBalance: 50 });

    const pending = (await inject({ method: 'GET', url: '/api/admin/mall/redemptions?status=pending_shipment', headers: k.admin })).json();
    const r = pending.find((p: { id: string }) => p.id === res.json().id);
    expect(r.address).toMatchObject({ phone: '13812346392', city: '杭州市' });
    const shipped = await inject({ method: 'POST', url: `/api/admin/mall/redemptions/${r.id}/ship`, headers: k.admin, payload: { company: '顺丰', trackingNo: 'SF1234567890' } });
    expect(shipped.json()).toMatchObject({ status: 'shipped', trackingNo: 'SF1234567890' });
    const ownList = (await inject({ method: 'GET', url: '/api/mp/mall/redemptions', headers: m.headers })).json();
    expect(ownList).toEqual([expect.objectContaining({ id: r.id, name: '保温杯', status: 'shipped', shipping: { company: '顺丰', trackingNo: 'SF1234567890' } })]);
    expect((await inject({ method: 'GET', url: '/api/mp/mall/redemptions', headers: other.headers })).json()).toEqual([]);
    const again = await inject({ method: 'POST', url: `/api/admin/mall/redemptions/${r.id}/ship`, headers: k.admin, payload: { company: '顺丰', trackingNo: 'SF1234567890' } });
    expect(again.json().code).toBe('not_pending_shipment');
  });

  it('the same Idempotency-Key redeems once (a double tap)', async () => {
    const item = await createItem({ kind: 'gift', name: '帆布袋', pointsCost: 10, stock: 10 });
    const m = await k.member('double-tap');
    await k.grant(m.memberId, 100);
    const addr = await addAddress(m.headers);
    const headers = { ...m.headers, 'idempotency-key': 'redeem-tap-0001' };
    const tap = () => inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers, payload: { itemId: item.id, addressId: addr.id } });
    const [a, b] = await Promise.all([tap(), tap()]);
    expect(a!.statusCode).toBe(200);
    expect(b!.statusCode).toBe(200);
    expect(a!.json().id).toBe(b!.json().id);
    expect(await k.balance(m.memberId)).toBe(90);
    const bad = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: { ...m.headers, 'idempotency-key': 'x' }, payload: { itemId: item.id, addressId: addr.id } });
    expect(bad.json().code).toBe('invalid_idempotency_key');
  });

  it('rejects bad input and unknown items', async () => {
    const m = await k.member('typo');
    const res = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: 'not-a-uuid' } });
    expect([res.statusCode, res.json().code]).toEqual([400, 'invalid_request']);
    const missing = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: '00000000-0000-4000-8000-000000000000' } });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'item_not_found']);
    const coupon = await inject({ method: 'POST', url: '/api/admin/mall/items', headers: k.admin, payload: { kind: 'coupon', name: '券', pointsCost: 1, stock: 1 } });
    expect([coupon.statusCode, coupon.json().code]).toEqual([400, 'coupon_fields_required']);
  });

  it(`100 members racing for 10 units: exactly 10 redemptions, stock 0, points taken from exactly 10: ${PG_RACE}`, async () => {
    const item = await createItem({ kind: 'coupon', name: '限量券', pointsCost: 100, stock: 10, perMemberLimit: 1, couponValueFen: 1000, couponMinSpendFen: 0, couponValidDays: 7 });
    const members: Array<Awaited<ReturnType<StoreKit['member']>>> = [];
    for (let i = 0; i < 100; i++) members.push(await k.member(`racer-${i}`));
    for (const m of members) await k.grant(m.memberId, 100);
    const redeem = (m: (typeof members)[number]) => inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: item.id } });
    const race = watchConnections(k.t.app);
    const results = await Promise.all(members.map(redeem));
    race.done();
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(10);
    expect(results.filter((r) => r.statusCode !== 200).map((r) => [r.statusCode, r.json().code])).toEqual(Array(90).fill([409, 'out_of_stock']));
    const db = k.t.app.infra.db.dataSource;
    expect((await db.query('SELECT stock FROM mall_item WHERE id = $1', [item.id]))[0].stock).toBe(0);
    expect((await db.query('SELECT count(*)::int AS n FROM mall_redemption WHERE item_id = $1', [item.id]))[0].n).toBe(10);
    const balances: number[] = [];
    for (const m of members) balances.push(await k.balance(m.memberId));
    expect(balances.filter((b) => b === 0)).toHaveLength(10);
    expect(balances.filter((b) => b === 100)).toHaveLength(members.length - 10);
  });
});
