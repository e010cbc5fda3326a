import type { InjectOptions } from 'fastify';
import { storeKit, type StoreKit } from './store-kit';
import { PG_RACE, watchConnections } from '../helpers/race';

let k: StoreKit;
beforeAll(async () => {
  k = await storeKit();
});
afterAll(async () => k.t.close());

const inject = (o: InjectOptions) => k.t.app.inject(o);
const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);
const stockOf = async (skuId: string) => (await sql('SELECT stock FROM product_sku WHERE id = $1', [skuId]))[0].stock as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let skuId: string;
beforeAll(async () => {
  const res = await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { title: '白茶', skus: [{ name: '饼', priceFen: 15000, stock: 20 }] } });
  skuId = res.json().skus[0].id;
});

/** A member with points and an address places an order of one 150.00 cake using 2000 points: pays 130.00. */
async function placed(name: string) {
  const m = await k.member(name);
  await k.grant(m.memberId, 5000);
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
  it(`delivered twice (and at once) → paid once, purchase points once: ${PG_RACE}`, async () => {
    const { m, order } = await placed('payer');
    expect(order.payableFen).toBe(13000);
    // The member pays in the WeChat Pay sandbox; its signed notification reaches /wechatpay/notify and is answered.
    const { transactionId, notification } = await k.pay(m, order.id);
    // WeChat delivers the same notification again, twice at once; then the same payment under new notification ids.
    const race = watchConnections(k.t.app);
    const again = await Promise.all([k.redeliver(notification), k.redeliver(notification)]);
    expect(again.map((r) => r.status)).toEqual([204, 204]);
    const resource = k.sandboxOrder(order.orderNo);
    expect(resource).toMatchObject({ trade_state: 'SUCCESS', transaction_id: transactionId });
    const fresh = await Promise.all([k.notify('TRANSACTION.SUCCESS', 'transaction', resource), k.notify('TRANSACTION.SUCCESS', 'transaction', resource)]);
    expect(fresh.map((r) => r.status)).toEqual([204, 204]);
    race.done();
    const res = (await detail(m, order.id)).json();
    expect(res.status).toBe('paid');
    expect(res.paidAt).not.toBeNull();
    expect(await k.entries(`order:${order.id}:award`)).toBe(1);
    expect(await k.balance(m.memberId)).toBe(5000 - 2000 + 130);
    const history = (await inject({ method: 'GET', url: '/api/mp/points/history', headers: m.headers })).json();
    expect(history.items.slice(0, 3)).toEqual([
      expect.objectContaining({ delta: 130, code: 'store_purchase', label: '购物奖励', orderNo: order.orderNo }),
      expect.objectContaining({ delta: -2000, code: 'store_points_used', label: '下单积分抵扣', orderNo: order.orderNo }),
      expect.objectContaining({ delta: 5000, code: 'earn', label: '测试发放', orderNo: null }),
    ]);
    expect(order.orderNo).toMatch(/^\d{16}$/);
  });

  it('refuses a notification whose amount differs, and an unknown order', async () => {
    const { m, order } = await placed('short-payer');
    // Signed with WeChat Pay's keys, but the amount is not the order's; then an order this shop never placed.
    const view = k.sandboxOrder(order.orderNo);
    const paid = { ...view, trade_state: 'SUCCESS', transaction_id: '4200000000000000000000000001', success_time: new Date().toISOString() };
    const short = await k.notify('TRANSACTION.SUCCESS', 'transaction', { ...paid, amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' } });
    expect(short.status).toBe(400);
    expect(JSON.parse(short.body).error).toBe('amount_mismatch');
    const unknown = await k.notify('TRANSACTION.SUCCESS', 'transaction', { ...paid, out_trade_no: '0'.repeat(32) });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toBe('order_not_found');
    // A forged signature is refused before anything is read.
    const forged = await fetch(`${k.t.baseUrl}/wechatpay/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...k.wxpay.sign('{"other":"body"}') },
      body: JSON.stringify({ id: 'EV-forged', event_type: 'TRANSACTION.SUCCESS', resource: {} }),
    });
    expect(forged.status).toBe(401);
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
    expect(k.verifyPaymentSign(res.json().payment)).toBe(true);
    expect(res.json().payment.package).toBe(`prepay_id=${await k.prepayIdOf(order.id)}`);
    expect(k.sandboxOrder(order.orderNo)).toMatchObject({ trade_state: 'NOTPAY', amount: { total: 13000 } });
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
    expect(await k.balance(m.memberId)).toBe(5000);
    expect(k.sandboxOrder(order.orderNo).trade_state).toBe('CLOSED');
    expect((await inject({ method: 'POST', url: `/api/mp/orders/${order.id}/cancel`, headers: m.headers })).json().status).toBe('cancelled');
    expect(await stockOf(skuId)).toBe(before);
    const pay = await inject({ method: 'POST', url: `/api/mp/orders/${order.id}/pay`, headers: m.headers });
    expect([pay.statusCode, pay.json().code]).toEqual([409, 'order_not_payable']);

    const second = await placed('paid-then-cancel');
    await k.pay(second.m, second.order.id);
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
    expect(await k.balance(old.m.memberId)).toBe(5000);
  });

  it('a payment arriving after cancellation is refunded in full', async () => {
    const { m, order } = await placed('late-payer');
    // Cancelled here while the member was already paying in WeChat: the close had not reached it.
    await sql("UPDATE store_order SET status = 'cancelled', cancelled_at = now() WHERE id = $1", [order.id]);
    const { notification } = await k.pay(m, order.id);
    expect((await k.redeliver(notification)).status).toBe(204);
    for (let i = 0; i < 100 && k.refundsOf(order.orderNo).length === 0; i++) await sleep(100);
    await sleep(200);
    expect(k.refundsOf(order.orderNo)).toEqual([expect.objectContaining({ amount: expect.objectContaining({ refund: 13000, total: 13000 }) })]);
    expect((await detail(m, order.id)).json().status).toBe('cancelled');
  });
});

describe('shipping and refunds', () => {
  it('ships: the shipping information reaches WeChat through the job', async () => {
    const { m, order } = await placed('shipped-to');
    await k.pay(m, order.id);
    const early = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: {} });
    expect(early.json().code).toBe('invalid_request');
    const res = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/ship`, headers: k.admin, payload: { company: 'SF', trackingNo: 'SF100200300' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'shipped', shipping: { company: 'SF', trackingNo: 'SF100200300' }, address: { phone: '13700001111' } });
    // The job uploads to the sandbox's /wxa/sec/order/upload_shipping_info, which checks the paid transaction and payer.
    let shippingState = '';
    for (let i = 0; i < 100 && shippingState !== 'uploaded'; i++) {
      shippingState = (await inject({ method: 'GET', url: `/api/admin/orders/${order.id}`, headers: k.admin })).json().shippingState;
      if (shippingState !== 'uploaded') await sleep(100);
    }
    expect(shippingState).toBe('uploaded');
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
    await k.pay(m, order.id);
    expect(await k.balance(m.memberId)).toBe(3130);
    const res = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: { reason: '买家不想要了' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().refund).toMatchObject({ status: 'processing' });
    const twice = await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: { reason: '再来一次' } });
    expect(twice.json().code).toBe('order_not_refundable');
    expect(k.refundsOf(order.orderNo)).toEqual([expect.objectContaining({ out_refund_no: `${k.tradeNo(order.orderNo)}R1`, amount: expect.objectContaining({ refund: 13000, total: 13000 }) })]);

    // The sandbox finishes the refund a few seconds later and notifies REFUND.SUCCESS; WeChat then delivers it again.
    let status = '';
    for (let i = 0; i < 150 && status !== 'refunded'; i++) {
      status = (await detail(m, order.id)).json().status;
      if (status !== 'refunded') await sleep(100);
    }
    expect(status).toBe('refunded');
    const refunded = k.wxpay.notifications().find((d) => d.eventType === 'REFUND.SUCCESS' && (d.resource as { out_trade_no: string }).out_trade_no === k.tradeNo(order.orderNo))!;
    expect((await k.redeliver(refunded.id)).status).toBe(204);
    expect((await k.notify('REFUND.SUCCESS', 'refund', refunded.resource as object)).status).toBe(204);
    expect(await k.balance(m.memberId)).toBe(5000); // +2000 used back, −130 award clawed back
    expect(await k.entries(`order:${order.id}:award-clawback`)).toBe(1);
    expect(await stockOf(skuId)).toBe(before);
    const admin = (await inject({ method: 'GET', url: `/api/admin/orders/${order.id}`, headers: k.admin })).json();
    expect(admin).toMatchObject({ status: 'refunded', pointsAwarded: 130, pointsClawedBack: 130, refund: { status: 'succeeded' } });
  });

  it('a refund WeChat closes can be started again; staff without the role cannot refund', async () => {
    const { m, order } = await placed('retry-refund');
    const { transactionId } = await k.pay(m, order.id);
    await inject({ method: 'POST', url: `/api/admin/orders/${order.id}/refund`, headers: k.admin, payload: { reason: '质量问题' } });
    // WeChat closes the refund (the sandbox itself only ever succeeds): a signed REFUND.CLOSED before its success.
    const closed = await k.notify('REFUND.CLOSED', 'refund', {
      mchid: k.wxpay.keys.mchid,
      out_trade_no: k.tradeNo(order.orderNo),
      transaction_id: transactionId,
      out_refund_no: `${k.tradeNo(order.orderNo)}R1`,
      refund_id: '50300000000000000000000000001',
      refund_status: 'CLOSED',
      user_received_account: '支付用户零钱',
      amount: { total: 13000, refund: 13000, payer_total: 13000, payer_refund: 13000 },
    });
    expect(closed.status).toBe(204);
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
