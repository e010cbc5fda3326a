import type { InjectOptions } from 'fastify';
import { ordersFile } from '../taobao/taobao-files';
import { shanghaiDay } from '../../server/infra/time';
import { OrderService, isStoreOrderNo } from '../../server/modules/store/orders.service';
import { storeKit, type StoreKit } from './store-kit';
import { PG_RACE, watchConnections } from '../helpers/race';

// Taobao orders whose 12-month spend puts the member who binds them in a tier (silver from 1000.00, gold from 1800.00).
const SILVER_ORDER = { orderNo: '4036455525271590001', nick: 's**r', phone: "'136****1001", total: '1200.00', status: '交易成功' };
const SILVER_ORDER_2 = { orderNo: '4036455525271590003', nick: 's**2', phone: "'136****1003", total: '1100.00', status: '交易成功' };
const TAOBAO_ORDER = { orderNo: '4036455525271590004', nick: 't**4', phone: "'136****1004", total: '88.00', status: '交易成功' };
const GOLD_ORDER = { orderNo: '4036455525271590002', nick: 'g**d', phone: "'136****1002", total: '2000.00', status: '交易成功' };

let k: StoreKit;
beforeAll(async () => {
  k = await storeKit();
  const tiers = await k.t.app.inject({
    method: 'PUT',
    url: '/api/admin/tiers',
    headers: k.admin,
    payload: [
      { code: 'regular', name: '普通会员', rank: 0, minSpend12mFen: 0, minOrders12m: 0, perks: { freeShipping: false, discountPercent: 0, pointsMultiplier: 1, birthdayGift: false } },
      { code: 'silver', name: '银卡会员', rank: 1, minSpend12mFen: 100_000, minOrders12m: 0, perks: { freeShipping: true, discountPercent: 5, pointsMultiplier: 2, birthdayGift: false } },
      { code: 'gold', name: '金卡会员', rank: 2, minSpend12mFen: 180_000, minOrders12m: 0, perks: { freeShipping: false, discountPercent: 10, pointsMultiplier: 1, birthdayGift: false } },
    ],
  });
  expect(tiers.statusCode).toBe(200);
  const imp = k.t.app.services.taobaoImport;
  await imp.run({}, await imp.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: ordersFile([SILVER_ORDER, GOLD_ORDER, SILVER_ORDER_2, TAOBAO_ORDER]) }));
});

/** The member binds a Taobao order through the member ledger; the tier service re-tiers them by its spend. */
async function bindOrder(m: Member, order: { orderNo: string; phone: string }, tier: string) {
  const res = await inject({ method: 'POST', url: '/api/mp/bindings', headers: m.headers, payload: { orderNo: order.orderNo, phoneLast4: order.phone.slice(-4) } });
  expect(res.statusCode).toBe(200);
  expect((await inject({ method: 'GET', url: '/api/mp/me', headers: m.headers })).json().tier.code).toBe(tier);
}
afterAll(async () => k.t.close());

const inject = (o: InjectOptions) => k.t.app.inject(o);
const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);
type Member = Awaited<ReturnType<StoreKit['member']>>;

async function product(skus: Array<{ name: string; priceFen: number; stock: number }>, title = '龙井茶') {
  const res = await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { title, description: '明前', images: ['https://img.example.com/a.jpg'], skus } });
  expect(res.statusCode).toBe(200);
  return res.json() as { id: string; skus: Array<{ id: string; stock: number }> };
}

async function shopper(name: string, points = 0): Promise<Member & { addressId: string }> {
  const m = await k.member(name);
  if (points) await k.grant(m.memberId, points);
  const a = await inject({
    method: 'POST',
    url: '/api/mp/addresses',
    headers: m.headers,
    payload: { name: '韩梅梅', phone: '13912345678', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 2 号' },
  });
  return { ...m, addressId: a.json().id };
}

async function checkout(m: Member & { addressId: string }, body: Record<string, unknown>, key?: string) {
  return inject({ method: 'POST', url: '/api/mp/orders', headers: { ...m.headers, ...(key ? { 'idempotency-key': key } : {}) }, payload: { addressId: m.addressId, ...body } });
}

const stockOf = async (skuId: string) => (await sql('SELECT stock FROM product_sku WHERE id = $1', [skuId]))[0].stock as number;

describe('catalog, cart and addresses', () => {
  it('shows member prices by tier, keeps a cart, masks phones in the address list', async () => {
    const p = await product([{ name: '250g', priceFen: 12800, stock: 7 }, { name: '100g', priceFen: 5900, stock: 3 }]);
    const m = await shopper('tiered');
    await bindOrder(m, SILVER_ORDER, 'silver');
    const list = (await inject({ method: 'GET', url: '/api/mp/products', headers: m.headers })).json();
    expect(list.find((x: { id: string }) => x.id === p.id)).toMatchObject({ priceFen: 5900, memberPriceFen: 5605, stock: 10, imageUrl: 'https://img.example.com/a.jpg' });
    const detail = (await inject({ method: 'GET', url: `/api/mp/products/${p.id}`, headers: m.headers })).json();
    expect(detail.skus.map((s: { memberPriceFen: number }) => s.memberPriceFen)).toEqual([5605, 12160]);

    const sku = p.skus[0]!.id;
    const put = await inject({ method: 'PUT', url: '/api/mp/cart/items', headers: m.headers, payload: { skuId: sku, quantity: 2 } });
    expect(put.json().items).toEqual([expect.objectContaining({ skuId: sku, quantity: 2, priceFen: 12800, memberPriceFen: 12160, stock: 7 })]);
    const gone = await inject({ method: 'PUT', url: '/api/mp/cart/items', headers: m.headers, payload: { skuId: '00000000-0000-4000-8000-000000000000', quantity: 1 } });
    expect([gone.statusCode, gone.json().code]).toEqual([404, 'sku_not_found']);
    const tooMany = await inject({ method: 'PUT', url: '/api/mp/cart/items', headers: m.headers, payload: { skuId: sku, quantity: 100 } });
    expect(tooMany.json().code).toBe('invalid_request');
    expect((await inject({ method: 'PUT', url: '/api/mp/cart/items', headers: m.headers, payload: { skuId: sku, quantity: 0 } })).json().items).toEqual([]);

    const addresses = (await inject({ method: 'GET', url: '/api/mp/addresses', headers: m.headers })).json();
    expect(addresses).toEqual([expect.objectContaining({ phone: '139****5678', isDefault: true })]);
    const full = (await inject({ method: 'GET', url: `/api/mp/addresses/${m.addressId}`, headers: m.headers })).json();
    expect(full.phone).toBe('13912345678');
    const badPhone = await inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: { name: 'x', phone: '12345', province: 'a', city: 'b', district: 'c', detail: 'd' } });
    expect(badPhone.json().code).toBe('invalid_request');
    const other = await k.member('nosy');
    expect((await inject({ method: 'DELETE', url: `/api/mp/addresses/${m.addressId}`, headers: other.headers })).json().code).toBe('address_not_found');
  });
});

describe('address book', () => {
  it('one default at a time, a double-tapped create saves once, deleting the default promotes another', async () => {
    const m = await k.member('mover');
    const body = { name: '张三', phone: '13600001234', province: '广东省', city: '深圳市', district: '南山区', detail: '科技园 1 栋' };
    const h = { ...m.headers, 'idempotency-key': 'address-tap-0001' };
    const first = (await inject({ method: 'POST', url: '/api/mp/addresses', headers: h, payload: body })).json();
    const again = (await inject({ method: 'POST', url: '/api/mp/addresses', headers: h, payload: body })).json();
    expect(again.id).toBe(first.id);
    expect(first).toMatchObject({ isDefault: true, phone: '136****1234' });
    const second = (await inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: { ...body, detail: '科技园 2 栋', isDefault: true } })).json();
    let list = (await inject({ method: 'GET', url: '/api/mp/addresses', headers: m.headers })).json();
    expect(list.map((a: { id: string; isDefault: boolean }) => [a.id, a.isDefault])).toEqual([[second.id, true], [first.id, false]]);
    const edited = await inject({ method: 'PUT', url: `/api/mp/addresses/${first.id}`, headers: m.headers, payload: { ...body, detail: '科技园 3 栋', isDefault: true } });
    expect(edited.json()).toMatchObject({ detail: '科技园 3 栋', isDefault: true });
    expect((await inject({ method: 'DELETE', url: `/api/mp/addresses/${first.id}`, headers: m.headers })).statusCode).toBe(204);
    list = (await inject({ method: 'GET', url: '/api/mp/addresses', headers: m.headers })).json();
    expect(list).toEqual([expect.objectContaining({ id: second.id, isDefault: true })]);
  });
});

describe('checkout', () => {
  it('prices an order (member price, coupon, points, shipping) and returns signed payment parameters', async () => {
    const p = await product([{ name: '礼盒', priceFen: 10000, stock: 10 }]);
    const sku = p.skus[0]!.id;
    const m = await shopper('buyer', 5000);
    await bindOrder(m, GOLD_ORDER, 'gold');
    const pointsBefore = await k.balance(m.memberId);
    const [coupon] = await sql(
      "INSERT INTO member_coupon (member_id, name, value_fen, min_spend_fen, expires_at) VALUES ($1, '满100减20', 2000, 10000, now() + interval '1 day') RETURNING id",
      [m.memberId],
    );
    await inject({ method: 'PUT', url: '/api/mp/cart/items', headers: m.headers, payload: { skuId: sku, quantity: 2 } });
    const res = await checkout(m, { items: [{ skuId: sku, quantity: 2 }], pointsToUse: 1000, couponId: coupon.id });
    expect(res.statusCode).toBe(200);
    const { order, payment } = res.json();
    // 2 × 100.00 = 200.00; tier 10% off → 180.00; coupon −20.00; 1000 points −10.00; free shipping over 99.00.
    expect(order).toMatchObject({ status: 'pending_payment', goodsFen: 20000, discountFen: 4000, pointsUsed: 1000, pointsDiscountFen: 1000, shippingFen: 0, payableFen: 15000 });
    expect(order.items).toEqual([{ skuId: sku, title: '龙井茶', skuName: '礼盒', quantity: 2, unitPriceFen: 9000 }]);
    expect(order.address.phone).toBe('139****5678');
    expect(order.orderNo).toMatch(new RegExp(`^${shanghaiDay().slice(2).replace(/-/g, '')}\\d{10}$`));
    expect(k.verifyPaymentSign(payment)).toBe(true);
    expect(k.verifyPaymentSign({ ...payment, package: 'prepay_id=wx0000' })).toBe(false);
    expect(payment.package).toBe(`prepay_id=${await k.prepayIdOf(order.id)}`);
    expect(k.sandboxOrder(order.orderNo)).toMatchObject({ trade_state: 'NOTPAY', amount: { total: 15000 }, payer: { openid: m.mpOpenid } });
    expect(await stockOf(sku)).toBe(8);
    expect(await k.balance(m.memberId)).toBe(pointsBefore - 1000);
    expect((await inject({ method: 'GET', url: '/api/mp/cart', headers: m.headers })).json().items).toEqual([]);
    const reused = await checkout(m, { items: [{ skuId: sku, quantity: 1 }], couponId: coupon.id });
    expect([reused.statusCode, reused.json().code]).toEqual([409, 'coupon_invalid']);
  });

  it('quotes exactly what checkout charges: shipping, threshold, tier perk, 包邮卡, coupon and points', async () => {
    const quote = (m: Member, body: Record<string, unknown>) => inject({ method: 'POST', url: '/api/mp/checkout/quote', headers: m.headers, payload: body });
    const p = await product([{ name: '小样', priceFen: 2900, stock: 50 }, { name: '大罐', priceFen: 12000, stock: 50 }], '白茶');
    const [small, big] = [p.skus[0]!.id, p.skus[1]!.id];
    const plain = await shopper('quote-plain', 3000);
    const silver = await shopper('quote-silver');
    await bindOrder(silver, SILVER_ORDER_2, 'silver');
    const carded = await shopper('quote-card');
    await sql("INSERT INTO member_shipping_card (member_id, period, starts_at, expires_at) VALUES ($1, 'monthly', now(), now() + interval '1 month')", [carded.memberId]);
    const [coupon] = await sql(
      "INSERT INTO member_coupon (member_id, name, value_fen, min_spend_fen, expires_at) VALUES ($1, '满100减15', 1500, 10000, now() + interval '1 day') RETURNING id",
      [plain.memberId],
    );
    const cases: Array<[string, Member & { addressId: string }, Record<string, unknown>, Record<string, unknown>]> = [
      ['shipping', plain, { items: [{ skuId: small, quantity: 1 }] }, { goodsFen: 2900, shippingFen: 1000, freeShipping: null, payableFen: 3900, maxPoints: 1450 }],
      ['threshold', plain, { items: [{ skuId: big, quantity: 1 }] }, { goodsFen: 12000, shippingFen: 0, freeShipping: 'threshold', payableFen: 12000 }],
      ['tier perk', silver, { items: [{ skuId: small, quantity: 1 }] }, { memberGoodsFen: 2755, memberDiscountFen: 145, shippingFen: 0, freeShipping: 'tier', payableFen: 2755 }],
      ['包邮卡', carded, { items: [{ skuId: small, quantity: 1 }] }, { shippingFen: 0, freeShipping: 'shipping_card', payableFen: 2900 }],
      ['coupon and points', plain, { items: [{ skuId: big, quantity: 1 }], couponId: coupon.id, pointsToUse: 2000 },
        { couponFen: 1500, discountFen: 1500, pointsDiscountFen: 2000, maxPoints: 3000, payableFen: 8500 }],
    ];
    for (const [name, m, body, figures] of cases) {
      const q = await quote(m, body);
      expect([name, q.statusCode]).toEqual([name, 200]);
      expect(q.json()).toMatchObject(figures);
      const placed = await checkout(m, body);
      expect([name, placed.statusCode]).toEqual([name, 200]);
      const order = placed.json().order;
      const { goodsFen, discountFen, pointsDiscountFen, shippingFen, payableFen } = q.json();
      expect(order).toMatchObject({ goodsFen, discountFen, pointsDiscountFen, shippingFen, payableFen });
      expect(k.sandboxOrder(order.orderNo)).toMatchObject({ amount: { total: payableFen } });
    }
    // The quote reserves nothing and refuses what checkout refuses, with the same codes.
    expect(await stockOf(small)).toBe(47);
    const used = await quote(plain, { items: [{ skuId: big, quantity: 1 }], couponId: coupon.id });
    expect([used.statusCode, used.json().code]).toEqual([409, 'coupon_invalid']);
    const over = await quote(plain, { items: [{ skuId: small, quantity: 1 }], pointsToUse: 1451 });
    expect([over.statusCode, over.json().code, over.json().details]).toEqual([400, 'points_over_limit', { maxPoints: 1450 }]);
    const poor = await quote(carded, { items: [{ skuId: small, quantity: 1 }], pointsToUse: 10 });
    expect([poor.statusCode, poor.json().code]).toEqual([409, 'insufficient_points']);
    const sold = await quote(plain, { items: [{ skuId: small, quantity: 48 }] });
    expect([sold.statusCode, sold.json().code]).toEqual([409, 'out_of_stock']);
    const other = await quote(silver, { items: [{ skuId: small, quantity: 1 }], couponId: coupon.id });
    expect([other.statusCode, other.json().code]).toEqual([409, 'coupon_invalid']);
  });

  it('gives orders a date-prefixed numeric order number and draws again when one is taken', async () => {
    const p = await product([{ name: '单罐', priceFen: 5000, stock: 10 }], '红茶');
    const m = await shopper('numbered');
    const first = (await checkout(m, { items: [{ skuId: p.skus[0]!.id, quantity: 1 }] })).json().order;
    const spy = jest.spyOn(OrderService.prototype as unknown as { newOrderNo(): string }, 'newOrderNo');
    try {
      spy.mockReturnValueOnce(first.orderNo).mockReturnValueOnce(first.orderNo);
      const second = await checkout(m, { items: [{ skuId: p.skus[0]!.id, quantity: 1 }] });
      expect(second.statusCode).toBe(200);
      expect(spy).toHaveBeenCalledTimes(3);
      expect(second.json().order.orderNo).toMatch(/^\d{16}$/);
      expect(second.json().order.orderNo).not.toBe(first.orderNo);
    } finally {
      spy.mockRestore();
    }
    expect(await stockOf(p.skus[0]!.id)).toBe(8);
    expect((await sql('SELECT count(*)::int AS n FROM store_order WHERE member_id = $1', [m.memberId]))[0].n).toBe(2);
  });

  it('knows an order number: the new 16 digits and the 32 hex digits of older orders', () => {
    expect(['2612041234567890', '0f'.repeat(16)].map(isStoreOrderNo)).toEqual([true, true]);
    expect(['261204123456789', 'RR2612041234567890', '4036455525271590001'].map(isStoreOrderNo)).toEqual([false, false, false]);
  });

  it('finds an order by the number a person reads out: the member, and customer service', async () => {
    const p = await product([{ name: '单罐', priceFen: 4500, stock: 10 }], '岩茶');
    const m = await shopper('reads-out');
    const other = await shopper('someone-else');
    const order = (await checkout(m, { items: [{ skuId: p.skus[0]!.id, quantity: 1 }] })).json().order;
    const mine = await inject({ method: 'GET', url: `/api/mp/orders/${order.orderNo}`, headers: m.headers });
    expect([mine.statusCode, mine.json().id]).toEqual([200, order.id]);
    const theirs = await inject({ method: 'GET', url: `/api/mp/orders/${order.orderNo}`, headers: other.headers });
    expect([theirs.statusCode, theirs.json().code]).toEqual([404, 'order_not_found']);
    const staff = await inject({ method: 'GET', url: `/api/admin/orders/${order.orderNo}`, headers: k.admin });
    expect([staff.statusCode, staff.json().id, staff.json().orderNo]).toEqual([200, order.id, order.orderNo]);
    const listed = await inject({ method: 'GET', url: `/api/admin/orders?orderNo=${order.orderNo}`, headers: k.admin });
    expect(listed.json().map((o: { id: string }) => o.id)).toEqual([order.id]);
    const bad = await inject({ method: 'GET', url: '/api/admin/orders/12345', headers: k.admin });
    expect(bad.statusCode).toBe(400);
  });

  it('points history: a Taobao order by its number, a cancelled store order by its number, reasons as codes with Chinese labels', async () => {
    const p = await product([{ name: '茶包', priceFen: 6000, stock: 5 }], '乌龙');
    const m = await shopper('history-reader');
    await bindOrder(m, TAOBAO_ORDER, 'regular');
    const placed = (await checkout(m, { items: [{ skuId: p.skus[0]!.id, quantity: 1 }], pointsToUse: 20 })).json().order;
    expect((await inject({ method: 'POST', url: `/api/mp/orders/${placed.id}/cancel`, headers: m.headers })).statusCode).toBe(200);
    const history = (await inject({ method: 'GET', url: '/api/mp/points/history', headers: m.headers })).json();
    expect(history.items.map((i: Record<string, unknown>) => [i.delta, i.code, i.label, i.orderNo])).toEqual([
      [20, 'store_cancel_return', '取消订单退回积分', placed.orderNo],
      [-20, 'store_points_used', '下单积分抵扣', placed.orderNo],
      [88, 'taobao_purchase', '淘宝订单积分', TAOBAO_ORDER.orderNo],
    ]);
  });

  it('charges shipping below the threshold unless a free-shipping card runs', async () => {
    const p = await product([{ name: '小样', priceFen: 1990, stock: 10 }]);
    const m = await shopper('small-buyer');
    const first = (await checkout(m, { items: [{ skuId: p.skus[0]!.id, quantity: 1 }] })).json().order;
    expect(first).toMatchObject({ shippingFen: 1000, payableFen: 2990 });
    await sql("INSERT INTO member_shipping_card (member_id, period, starts_at, expires_at) VALUES ($1, 'monthly', now(), now() + interval '1 month')", [m.memberId]);
    expect((await checkout(m, { items: [{ skuId: p.skus[0]!.id, quantity: 1 }] })).json().order).toMatchObject({ shippingFen: 0, payableFen: 1990 });
  });

  it('refuses bad orders with stable codes and leaves stock and points alone', async () => {
    const p = await product([{ name: '单品', priceFen: 3000, stock: 2 }]);
    const sku = p.skus[0]!.id;
    const m = await shopper('careless', 100);
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ items: [], addressId: m.addressId }, 400, 'invalid_request'],
      [{ items: [{ skuId: sku, quantity: 1 }], addressId: undefined }, 400, 'address_required'],
      [{ items: [{ skuId: sku, quantity: 3 }] }, 409, 'out_of_stock'],
      [{ items: [{ skuId: sku, quantity: 1 }], pointsToUse: 1501 }, 400, 'points_over_limit'],
      [{ items: [{ skuId: sku, quantity: 1 }], couponId: '00000000-0000-4000-8000-000000000000' }, 409, 'coupon_invalid'],
      [{ items: [{ skuId: sku, quantity: 1.5 }] }, 400, 'invalid_request'],
    ];
    for (const [body, status, code] of cases) {
      const res = await checkout(m, body);
      expect([res.statusCode, res.json().code]).toEqual([status, code]);
    }
    const poor = await checkout(m, { items: [{ skuId: sku, quantity: 1 }], pointsToUse: 500 });
    expect([poor.statusCode, poor.json().code]).toEqual([409, 'insufficient_points']);
    expect(await stockOf(sku)).toBe(2);
    expect(await k.balance(m.memberId)).toBe(100);
    expect((await sql('SELECT count(*)::int AS n FROM store_order WHERE member_id = $1', [m.memberId]))[0].n).toBe(0);
  });

  it('the same Idempotency-Key returns the same order; a different body with it is refused', async () => {
    const p = await product([{ name: '单品', priceFen: 3000, stock: 5 }]);
    const sku = p.skus[0]!.id;
    const m = await shopper('retrier');
    const tap = () => checkout(m, { items: [{ skuId: sku, quantity: 1 }] }, 'checkout-key-0001');
    const [a, b] = await Promise.all([tap(), tap()]);
    expect(a!.statusCode).toBe(200);
    expect(b!.statusCode).toBe(200);
    expect(a!.json().order.id).toBe(b!.json().order.id);
    expect(await stockOf(sku)).toBe(4);
    const other = await checkout(m, { items: [{ skuId: sku, quantity: 2 }] }, 'checkout-key-0001');
    expect([other.statusCode, other.json().code]).toEqual([409, 'idempotency_key_reused']);
  });

  it(`50 parallel checkouts of the last 5 units: exactly 5 orders: ${PG_RACE}`, async () => {
    const p = await product([{ name: '限量', priceFen: 9900, stock: 5 }]);
    const sku = p.skus[0]!.id;
    const buyers: Array<Member & { addressId: string }> = [];
    for (let i = 0; i < 50; i++) buyers.push(await shopper(`rush-${i}`));
    const race = watchConnections(k.t.app);
    const results = await Promise.all(buyers.map((m) => checkout(m, { items: [{ skuId: sku, quantity: 1 }] })));
    race.done();
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(5);
    expect(results.filter((r) => r.statusCode !== 200).map((r) => r.json().code)).toEqual(Array(buyers.length - 5).fill('out_of_stock'));
    expect(await stockOf(sku)).toBe(0);
    expect((await sql('SELECT count(*)::int AS n FROM store_order_item WHERE sku_id = $1', [sku]))[0].n).toBe(5);
  });

  it('limits checkouts per member', async () => {
    const m = await k.member('hammer');
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) codes.push((await inject({ method: 'POST', url: '/api/mp/orders', headers: m.headers, payload: {} })).statusCode);
    expect(codes.slice(0, 10)).toEqual(Array(10).fill(400));
    expect(codes[10]).toBe(429);
  });
});
