import type { InjectOptions } from 'fastify';
import { storeKit, type StoreKit } from './fakes';

let k: StoreKit;
beforeAll(async () => {
  k = await storeKit();
});
afterAll(async () => k.t.close());

const inject = (o: InjectOptions) => k.t.app.inject(o);
const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);
const events = () => k.t.app.services.storePaymentEvents;
const stockOf = async (skuId: string) => (await sql('SELECT stock FROM product_sku WHERE id = $1', [skuId]))[0].stock as number;
const entries = async (key: string) => (await sql('SELECT count(*)::int AS n FROM fake_points_entry WHERE key = $1', [key]))[0].n as number;

let skuId: string;
beforeAll(async () => {
  const res = await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { title: '白茶', skus: [{ name: '饼', priceFen: 15000, stock: 20 }] } });
  skuId = res.json().skus[0].id;
});

/** A member with points and an address places an order of one 150.00 cake using 2000 points: pays 130.00. */
async function placed(name: string) {
  const m = await k.member(name);
  await k.points.grant(m.memberId, 5000);
  const addr = await inject({
    method: 'POST',
    url: '/api/mp/addresses',
    headers: m.headers,
    payload: { name: '王五', phone: '13700001111', province: '福建省', city: '福州市', district: '鼓楼区', detail: '五一路 3 号' },
  });
  const res = await inject({ method: 'POST', url: '/api/mp/orders', headers: m.headers, payload: { items: [{ skuId, quantity: 1 }], addressId: addr.json().id, pointsToUse: 2000 } });
  expect(res.statusCode).toBe(200);
  return { m, order: res.json().order as { id: string; orderNo: string; payableFen: number } };
}

const detail = async (m: { headers: Record<string, string> }, id: string) => inject({ method: 'GET', url: `/api/mp/orders/${id}`, headers: m.headers });

describe('payment notification', () => {
  it('delivered twice (and at once) → paid once, purchase points once', async () => {
    const { m, order } = await placed('payer');
    expect(order.payableFen).toBe(13000);
    const paid = k.payments.pay(order.orderNo);
    // At once where the database takes concurrent transactions (PostgreSQL), one after the other on embedded PGlite.
    if (k.t.database.server) await Promise.all([events().onPaymentSucceeded({}, paid), events().onPaymentSucceeded({}, paid)]);
    else await events().onPaymentSucceeded({}, paid);
    await events().onPaymentSucceeded({}, paid);
    const res = (await detail(m, order.id)).json();
    expect(res.status).toBe('paid');
    expect(res.paidAt).not.toBeNull();
    expect(await entries(`order:${order.id}:award`)).toBe(1);
    expect(await k.points.balance({}, m.memberId)).toBe(5000 - 2000 + 130);
    const history = (await inject({ method: 'GET', url: '/api/mp/points/history', headers: m.headers })).json();
    expect(history.items[0]).toMatchObject({ delta: 130, reason: `购物奖励 ${order.orderNo}` });
  });

  it('refuses a notification whose amount differs, and an unknown order', async () => {
    const { m, order } = await placed('short-payer');
    const paid = k.payments.pay(order.orderNo);
    await expect(events().onPaymentSucceeded({}, { ...paid, amountFen: 1 })).rejects.toMatchObject({ code: 'amount_mismatch' });
    await expect(events().onPaymentSucceeded({}, { ...paid, outTradeNo: 'nosuchorder000' })).rejects.toMatchObject({ code: 'order_not_found' });
    expect((await detail(m, order.id)).json().status).toBe('pending_payment');
  });

  it("another member's order is 404 everywhere", async () => {
    const { order } = await placed('owner-of-order');
    const other = await k.member('snoop');
    for (const [method, url] of [['GET', `/api/mp/orders/${order.id}`], ['POST', `/api/mp/orders/${order.id}/pay`], ['POST', `/api/mp/orders/${order.id}/cancel`], ['GET', '/api/mp/orders/not-an-id']] as const) {
      const res = await inject({ method, url, headers: other.headers });
      expect([res.statusCode, res.json().code]).toEqual([404, 'order_not_found']);
    }
    expect((await inject({ method: 'GET', url: '/api/mp/orders', headers: other.headers })).json()).toEqual([]);
  });

  it('pay again returns fresh signed parameters for the same prepay', async () => {
    const { m, order } = await placed('hesitant');
    const res = await inject({ method: 'POST', url: `/api/mp/orders/${order.id}/pay`, headers: m.headers });
    expect(res.statusCode).toBe(200);
    expect(k.payments.verify(res.json().payment)).toBe(true);
    expect(res.json().payment.package).toBe(`prepay_id=${k.payments.prepays.get(order.orderNo)!.prepayId}`);
  });
});

describe('cancel and expiry', () => {
  it('cancel gives back stock and points, closes the payment, and is idempotent; a paid order cannot be cancelled', async () => {
    const before = await stockOf(skuId);
    const { m, order } = await placed('changed-mind');
    expect(await stockOf(skuId)).toBe(before - 1);
    const res = await inject({ method: 'POST', url: `/api/mp/orders/${order.id}/cancel`, headers: m.headers });
    expect(res.json().status).toBe('cancelled');
    expect(await stockOf(skuId)).toBe(before);
    expect(await k.points.balance({}, m.memberId)).toBe(5000);
    expect(k.payments.closed.has(order.orderNo)).toBe(true);
    expect((await inject({ method: 'POST', url: `/api/mp/orders/${order.id}/cancel`, headers: m.headers })).json().status).toBe('cancelled');
    expect(await stockOf(skuId)).toBe(before);
    const pay = await inject({ method: 'POST', url: `/api/mp/orders/${order.id}/pay`, headers: m.headers });
    expect([pay.statusCode, pay.json().code]).toEqual([409, 'order_not_payable']);

    const second = await placed('paid-then-cancel');
    await events().onPaymentSucceeded({}, k.payments.pay(second.order.orderNo));
    const refused = await inject({ method: 'POST', url: `/api/mp/orders/${second.order.id}/cancel`, headers: second.m.headers });
    expect([refused.statusCode, refused.json().code]).toEqual([409, 'order_not_cancellable']);
  });

  it('the sweep cancels unpaid orders after their 30 minutes, and leaves younger ones', async () => {
    const before = await stockOf(skuId);
    const old = await placed('forgetful');
    const young = await placed('quick');
    await sql("UPDATE store_order SET expires_at = now() - interval '1 second' WHERE id = $1", [old.order.id]);
    const [{ minutes }] = await sql('SELECT round(extract(epoch FROM expires_at - created_at) / 60)::int AS minutes FROM store_order WHERE id = $1', [young.order.id]);
    expect(minutes).toBe(30);
    expect(await k.t.app.services.orders.expireUnpaid({})).toEqual({ cancelled: 1 });
    expect((await detail(old.m, old.order.id)).json().status).toBe('cancelled');
    expect((await detail(young.m, young.order.id)).json().status).toBe('pending_payment');
    expect(await stockOf(skuId)).toBe(before - 1);
    expect(await k.points.balance({}, old.m.memberId)).toBe(5000);
  });

  it('a payment arriving after cancellation is refunded in full', async () => {
    const { m, order } = await placed('late-payer');
    const paid = k.payments.pay(order.orderNo); // paid in WeChat before the close reached it
    await sql("UPDATE store_order SET status = 'cancelled', cancelled_at = now() WHERE id = $1", [order.id]);
    await events().onPaymentSucceeded({}, paid);
    await events().onPaymentSucceeded({}, paid);
    for (let i = 0; i < 100 && !k.payments.refunds.some((r) => r.outTradeNo === order.orderNo); i++) await new Promise((r) => setTimeout(r, 100));
    expect(k.payments.refunds.filter((r) => r.outTradeNo === order.orderNo)).toEqual([expect.objectContaining({ refundFen: 13000, totalFen: 13000 })]);
    expect((await detail(m, order.id)).json().status).toBe('cancelled');
  });
});

describe('shipping and refunds', () => {
  it('ships: the shipping information reaches WeChat through the job', async () => {
    const { m, order } = await placed('shipped-to');
    await events().onPaymentSucceeded({}, k.payments.pay(order.orderNo));
    const early = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: {} });
    expect(early.json().code).toBe('invalid_request');
    const res = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/ship`, headers: k.admin, payload: { company: 'SF', trackingNo: 'SF100200300' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'shipped', shipping: { company: 'SF', trackingNo: 'SF100200300' }, address: { phone: '13700001111' } });
    for (let i = 0; i < 100 && !k.payments.uploads.some((u) => u.outTradeNo === order.orderNo); i++) await new Promise((r) => setTimeout(r, 100));
    expect(k.payments.uploads.find((u) => u.outTradeNo === order.orderNo)).toMatchObject({ trackingNo: 'SF100200300', payerOpenid: 'o_shipped-to', itemDesc: '白茶 饼×1' });
    for (let i = 0; i < 50; i++) {
      if ((await inject({ method: 'GET', url: `/api/admin/orders/${order.id}`, headers: k.admin })).json().shippingState === 'uploaded') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const uploaded = (await inject({ method: 'GET', url: '/api/admin/orders?shipping=uploaded', headers: k.admin })).json();
    expect(uploaded.map((o: { id: string }) => o.id)).toContain(order.id);
    expect((await detail(m, order.id)).json()).toMatchObject({ status: 'shipped', shipping: { trackingNo: 'SF100200300' } });
    const again = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/ship`, headers: k.admin, payload: { company: 'SF', trackingNo: 'SF100200300' } });
    expect(again.json().code).toBe('order_not_shippable');

    // Received: completed after 15 days, not before.
    const fulfilment = k.t.app.services.fulfilment;
    await fulfilment.completeDelivered({}, new Date(Date.now() + 14 * 86_400_000));
    expect((await detail(m, order.id)).json().status).toBe('shipped');
    await fulfilment.completeDelivered({}, new Date(Date.now() + 16 * 86_400_000));
    expect((await detail(m, order.id)).json().status).toBe('completed');
  });

  it('refund: settled once by the notification; points used come back, purchase points are clawed back, stock back when unshipped', async () => {
    const before = await stockOf(skuId);
    const { m, order } = await placed('refunded');
    await events().onPaymentSucceeded({}, k.payments.pay(order.orderNo));
    expect(await k.points.balance({}, m.memberId)).toBe(3130);
    const res = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: { reason: '买家不想要了' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().refund).toMatchObject({ status: 'processing' });
    const twice = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: { reason: '再来一次' } });
    expect(twice.json().code).toBe('order_not_refundable');
    const request = k.payments.refunds.find((r) => r.outTradeNo === order.orderNo)!;
    expect(request).toMatchObject({ refundFen: 13000, totalFen: 13000, outRefundNo: `R${order.orderNo}` });

    await events().onRefundFinished({}, { outRefundNo: request.outRefundNo, status: 'SUCCESS' });
    await events().onRefundFinished({}, { outRefundNo: request.outRefundNo, status: 'SUCCESS' });
    expect((await detail(m, order.id)).json().status).toBe('refunded');
    expect(await k.points.balance({}, m.memberId)).toBe(5000); // +2000 used back, −130 award clawed back
    expect(await entries(`order:${order.id}:award-clawback`)).toBe(1);
    expect(await stockOf(skuId)).toBe(before);
    const admin = (await inject({ method: 'GET', url: `/api/admin/orders/${order.id}`, headers: k.admin })).json();
    expect(admin).toMatchObject({ status: 'refunded', pointsAwarded: 130, pointsClawedBack: 130, refund: { status: 'succeeded' } });
  });

  it('a refund WeChat closes can be started again; staff without the role cannot refund', async () => {
    const { order } = await placed('retry-refund');
    await events().onPaymentSucceeded({}, k.payments.pay(order.orderNo));
    await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: { reason: '质量问题' } });
    await events().onRefundFinished({}, { outRefundNo: `R${order.orderNo}`, status: 'CLOSED' });
    const failed = (await inject({ method: 'GET', url: `/api/admin/orders/${order.id}`, headers: k.admin })).json();
    expect(failed).toMatchObject({ status: 'paid', refund: { status: 'failed' } });
    const retry = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: { reason: '质量问题' } });
    expect(retry.json().refund.status).toBe('processing');
    const noAuth = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, payload: { reason: 'x' } });
    expect(noAuth.statusCode).toBe(401);
    const cs = { username: 'cs-staff', password: 'cs-password-123', role: 'customer_service' };
    expect((await inject({ method: 'POST', url: '/api/admin/staff', headers: k.admin, payload: cs })).statusCode).toBe(201);
    const login = await inject({ method: 'POST', url: '/api/admin/login', payload: { username: cs.username, password: cs.password } });
    const csAuth = { authorization: `Bearer ${login.json().token}` };
    const denied = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: csAuth, payload: { reason: 'x' } });
    expect([denied.statusCode, denied.json().code]).toEqual([403, 'role_forbidden']);
    expect((await inject({ method: 'GET', url: `/api/admin/orders/${order.id}`, headers: csAuth })).statusCode).toBe(200);
  });
});
