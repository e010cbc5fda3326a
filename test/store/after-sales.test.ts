import type { InjectOptions } from 'fastify';
import { systemCtx } from '../../server/infra/db';
import { waitFor } from '../helpers/wait';
import { storeKit, type StoreKit, type StoreMember } from './store-kit';

/**
 * After-sales through the real app in sandbox mode: the member asks (申请退款) over /api/mp, the merchant accepts or
 * rejects over /api/admin, the refund goes to the WeChat Pay sandbox and its signed notification settles it.
 */
let k: StoreKit;
let tea: string;
let cup: string;
beforeAll(async () => {
  k = await storeKit();
  const res = await inject({
    method: 'POST',
    url: '/api/admin/products',
    headers: k.admin,
    payload: { title: '茶具套装', skus: [{ name: '茶叶', priceFen: 6000, stock: 10 }, { name: '茶杯', priceFen: 4000, stock: 10 }] },
  });
  [tea, cup] = res.json().skus.map((s: { id: string }) => s.id);
});
afterAll(async () => k.t.close());

const inject = (o: InjectOptions) => k.t.app.inject(o);
const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);
const stockOf = async (skuId: string) => (await sql('SELECT stock FROM product_sku WHERE id = $1', [skuId]))[0].stock as number;

/** 2 × tea (60.00) + 1 × cup (40.00) = 160.00, a 20.00 coupon and 2000 points: pays 120.00. */
async function paidOrder(name: string) {
  const m = await k.member(name);
  await k.grant(m.memberId, 5000);
  const [coupon] = await sql(
    "INSERT INTO member_coupon (member_id, name, value_fen, min_spend_fen, expires_at) VALUES ($1, '满100减20', 2000, 10000, now() + interval '1 day') RETURNING id",
    [m.memberId],
  );
  const addr = await inject({
    method: 'POST',
    url: '/api/mp/addresses',
    headers: m.headers,
    payload: { name: '赵六', phone: '13800002222', province: '浙江省', city: '杭州市', district: '西湖区', detail: '龙井路 1 号' },
  });
  const placed = await inject({
    method: 'POST',
    url: '/api/mp/orders',
    headers: m.headers,
    payload: { items: [{ skuId: tea, quantity: 2 }, { skuId: cup, quantity: 1 }], addressId: addr.json().id, pointsToUse: 2000, couponId: coupon.id },
  });
  expect(placed.statusCode).toBe(200);
  const order = placed.json().order as { id: string; orderNo: string; payableFen: number };
  expect(order.payableFen).toBe(12000);
  await k.pay(m, order.id);
  return { m, order, couponId: coupon.id as string };
}

const ask = (m: StoreMember, orderId: string, payload: object) => inject({ method: 'POST', url: `/api/mp/orders/${orderId}/after-sales`, headers: m.headers, payload });
const mine = async (m: StoreMember, orderId: string) => (await inject({ method: 'GET', url: `/api/mp/orders/${orderId}/after-sales`, headers: m.headers })).json();
const decide = (id: string, what: 'accept' | 'reject', payload: object = {}) => inject({ method: 'POST', url: `/api/admin/after-sales/${id}/${what}`, headers: k.admin, payload });
const settled = (m: StoreMember, orderId: string, id: string) =>
  waitFor(`after-sale ${id} to settle`, async () => {
    const a = (await mine(m, orderId)).find((x: { id: string }) => x.id === id);
    return a && a.status !== 'refunding' ? a : undefined;
  });

describe('申请退款', () => {
  it('by line, rejected then accepted; then the rest: stock, points in proportion, and the coupon with the last of the money', async () => {
    const [teaBefore, cupBefore] = [await stockOf(tea), await stockOf(cup)];
    const { m, order, couponId } = await paidOrder('after-sale');
    const award = (await inject({ method: 'GET', url: `/api/admin/orders/${order.id}`, headers: k.admin })).json().pointsAwarded as number;
    expect(award).toBe(120);
    expect(await k.balance(m.memberId)).toBe(5000 - 2000 + 120);

    const first = await ask(m, order.id, { reason: '杯子有裂纹', lines: [{ skuId: cup, quantity: 1 }] });
    expect(first.statusCode).toBe(200);
    // The cup's share of what was paid for the goods: 40.00 of 160.00 → 30.00 of 120.00.
    expect(first.json()).toMatchObject({ status: 'requested', amountFen: 3000, requestedBy: 'member', lines: [{ skuId: cup, quantity: 1 }] });
    const open = await ask(m, order.id, { reason: '再问一次' });
    expect([open.statusCode, open.json().code]).toEqual([409, 'after_sale_open']);
    const listed = (await inject({ method: 'GET', url: '/api/admin/after-sales?status=requested', headers: k.admin })).json();
    expect(listed.map((a: { id: string }) => a.id)).toContain(first.json().id);

    const rejected = await decide(first.json().id, 'reject', { note: '请先上传照片' });
    expect(rejected.json()).toMatchObject({ status: 'rejected', merchantNote: '请先上传照片' });
    expect((await decide(first.json().id, 'accept')).json().code).toBe('after_sale_decided');
    expect(k.refundsOf(order.orderNo)).toEqual([]);

    const again = (await ask(m, order.id, { reason: '杯子有裂纹（附照片）', lines: [{ skuId: cup, quantity: 1 }] })).json();
    const accepted = await decide(again.id, 'accept');
    expect(accepted.json().status).toBe('refunding');
    expect(k.refundsOf(order.orderNo)).toEqual([expect.objectContaining({ amount: expect.objectContaining({ refund: 3000, total: 12000 }) })]);
    expect(await settled(m, order.id, again.id)).toMatchObject({ status: 'refunded' });
    expect((await inject({ method: 'GET', url: `/api/mp/orders/${order.id}`, headers: m.headers })).json().status).toBe('paid');
    expect(await stockOf(cup)).toBe(cupBefore);
    expect(await stockOf(tea)).toBe(teaBefore - 2);
    // 3000 of 12000: a quarter of the 2000 points used back, a quarter of the 120 purchase points taken back.
    expect(await k.balance(m.memberId)).toBe(5000 - 2000 + 120 + 500 - 30);
    expect((await sql('SELECT used_order_id FROM member_coupon WHERE id = $1', [couponId]))[0].used_order_id).toBe(order.id);

    // The rest: the whole order; the refund waits its minute after the first (moved back here) and is sent by the sweep.
    const rest = (await ask(m, order.id, { reason: '不想要了' })).json();
    expect(rest).toMatchObject({ lines: null, amountFen: 9000 });
    expect((await decide(rest.id, 'accept')).json().status).toBe('refunding');
    expect(k.refundsOf(order.orderNo)).toHaveLength(1);
    await sql("UPDATE payment_refund SET not_before = now() - interval '5 minutes' WHERE state = 'pending'");
    await k.t.app.services.payments.reconcile(systemCtx);
    expect(await settled(m, order.id, rest.id)).toMatchObject({ status: 'refunded' });
    expect(k.refundsOf(order.orderNo).map((r) => r.amount.refund)).toEqual([3000, 9000]);
    const detail = (await inject({ method: 'GET', url: `/api/admin/orders/${order.id}`, headers: k.admin })).json();
    expect(detail).toMatchObject({ status: 'refunded', refund: { status: 'succeeded' }, pointsClawedBack: 120 });
    expect([await stockOf(tea), await stockOf(cup)]).toEqual([teaBefore, cupBefore]);
    expect(await k.balance(m.memberId)).toBe(5000);
    expect((await sql('SELECT used_order_id FROM member_coupon WHERE id = $1', [couponId]))[0].used_order_id).toBeNull();
    const nothingLeft = await ask(m, order.id, { reason: '还要退' });
    expect([nothingLeft.statusCode, nothingLeft.json().code]).toEqual([409, 'order_not_refundable']);
  });

  it('a full refund by the merchant returns the coupon too (left out before)', async () => {
    const { order, couponId } = await paidOrder('merchant-refund');
    const res = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: { reason: '缺货' } });
    expect(res.json().refund.status).toBe('processing');
    await waitFor('the refund', async () => (await inject({ method: 'GET', url: `/api/admin/orders/${order.id}`, headers: k.admin })).json().status === 'refunded');
    expect((await sql('SELECT used_order_id FROM member_coupon WHERE id = $1', [couponId]))[0].used_order_id).toBeNull();
  });

  it('refuses bad lines, an unpaid order, another member and a role that may not decide', async () => {
    const { m, order } = await paidOrder('bad-input');
    const tooMany = await ask(m, order.id, { reason: 'x', lines: [{ skuId: tea, quantity: 3 }] });
    expect([tooMany.statusCode, tooMany.json().code]).toEqual([400, 'after_sale_bad_quantity']);
    const notInOrder = await ask(m, order.id, { reason: 'x', lines: [{ skuId: '00000000-0000-4000-8000-000000000000', quantity: 1 }] });
    expect([notInOrder.statusCode, notInOrder.json().code]).toEqual([400, 'after_sale_bad_line']);
    const noReason = await ask(m, order.id, { reason: ' ' });
    expect(noReason.statusCode).toBe(400);
    const other = await k.member('not-the-buyer');
    expect((await ask(other, order.id, { reason: 'x' })).json().code).toBe('order_not_found');

    const unpaid = await k.member('unpaid-buyer');
    await k.grant(unpaid.memberId, 10);
    const addr = await inject({ method: 'POST', url: '/api/mp/addresses', headers: unpaid.headers, payload: { name: '钱七', phone: '13900003333', province: '江苏省', city: '南京市', district: '玄武区', detail: '中山路 2 号' } });
    const placed = (await inject({ method: 'POST', url: '/api/mp/orders', headers: unpaid.headers, payload: { items: [{ skuId: cup, quantity: 1 }], addressId: addr.json().id, pointsToUse: 0 } })).json();
    const early = await ask(unpaid, placed.order.id, { reason: 'x' });
    expect([early.statusCode, early.json().code]).toEqual([409, 'order_not_refundable']);

    const a = (await ask(m, order.id, { reason: '包装破损' })).json();
    const cs = { username: 'cs-after-sale', password: 'cs-password-123', role: 'customer_service' };
    expect((await inject({ method: 'POST', url: '/api/admin/staff', headers: k.admin, payload: cs })).statusCode).toBe(201);
    const login = await inject({ method: 'POST', url: '/api/admin/login', payload: { username: cs.username, password: cs.password } });
    const denied = await inject({ method: 'POST', url: `/api/admin/after-sales/${a.id}/accept`, headers: { authorization: `Bearer ${login.json().token}` }, payload: {} });
    expect([denied.statusCode, denied.json().code]).toEqual([403, 'role_forbidden']);
    expect((await mine(m, order.id))[0]).toMatchObject({ id: a.id, status: 'requested' });
  });
});

describe('确认收货', () => {
  it('a shipped order is completed when the member confirms it; not before shipping, not by another member; a refund can still be asked', async () => {
    const { m, order } = await paidOrder('receiver');
    const confirm = (who: StoreMember) => inject({ method: 'POST', url: `/api/mp/orders/${order.id}/confirm-receipt`, headers: who.headers });
    const early = await confirm(m);
    expect([early.statusCode, early.json().code]).toEqual([409, 'order_not_receivable']);
    const shipped = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/ship`, headers: k.admin, payload: { company: 'SF', trackingNo: 'SF900800700' } });
    expect(shipped.json().status).toBe('shipped');
    expect((await confirm(await k.member('not-the-receiver'))).statusCode).toBe(404);
    const done = await confirm(m);
    expect([done.statusCode, done.json().status]).toEqual([200, 'completed']);
    expect((await confirm(m)).json().status).toBe('completed');
    const asked = await ask(m, order.id, { reason: '商品与描述不符', lines: [{ skuId: tea, quantity: 1 }] });
    expect(asked.json()).toMatchObject({ status: 'requested', amountFen: 4500 });
  });
});
