/**
 * @jest-environment jsdom
 */
import path from 'path';
import simulate from 'miniprogram-simulate';
import { createFakeWx, installFakeWx, routes, type FakeWx } from './helpers/fake-wx';
import type { Address, Cart, CheckoutQuote, PlaceOrderInput, Wallet } from '../../miniprogram/src/models/api-types';

// The built-in switch and button, redefined with the properties the test reads.
simulate.load({ id: 'switch', tagName: 'wx-switch', template: '<slot/>', properties: { checked: { type: Boolean, value: false }, disabled: { type: Boolean, value: false } } });
simulate.load({ id: 'button', tagName: 'wx-button', template: '<slot/>', properties: { disabled: { type: Boolean, value: false } } });
const root = path.resolve(__dirname, '../../miniprogram/src');
const pageId = simulate.load(path.join(root, 'packages/store/checkout/index'), { compiler: 'simulate', rootPath: root });

const address: Address = { id: 'b3c1f0a2-4d5e-4f60-8a7b-9c0d1e2f3a4b', name: '林雪', phone: '138****6392', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 88 号', isDefault: true };
const SKU_1 = '5f0c2a1e-7b3d-4c8e-9a6f-1d2e3f4a5b6c';
const SKU_2 = '6a1d3b2f-8c4e-4d9f-8b7a-2e3f4a5b6c7d';
const COUPON = '7b2e4c3a-9d5f-4e0a-9c8b-3f4a5b6c7d8e';
const ORDER_ID = '8c3f5d4b-0e6a-4f1b-8d9c-4a5b6c7d8e9f';
const cart: Cart = {
  items: [
    { skuId: SKU_1, productId: '1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b', title: '羊毛围巾', skuName: '燕麦色', imageUrl: null, priceFen: 9900, memberPriceFen: 8900, quantity: 2, stock: 10 },
    { skuId: SKU_2, productId: '2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c', title: '手套', skuName: '均码', imageUrl: null, priceFen: 1500, memberPriceFen: 1500, quantity: 1, stock: 10 },
  ],
};
const wallet: Wallet = {
  coupons: [
    { id: COUPON, name: '满150减15', valueFen: 1500, minSpendFen: 15000, expiresAt: '2026-12-31T15:59:59.000Z' },
    { id: '9d4a6e5c-1f7b-4a2c-9e0d-5b6c7d8e9f0a', name: '满300减40', valueFen: 4000, minSpendFen: 30000, expiresAt: '2026-12-31T15:59:59.000Z' },
  ],
  shippingCardUntil: null,
};

// The server's pricing of this cart for a member with 1280 points and free shipping by tier, in the quote's shape.
function priced(input: { pointsToUse: number; couponId?: string }): CheckoutQuote {
  const couponFen = input.couponId === COUPON ? 1500 : 0;
  const afterCoupon = 19300 - couponFen;
  return {
    items: cart.items.map((i) => ({ skuId: i.skuId, productId: i.productId, title: i.title, skuName: i.skuName, quantity: i.quantity, listPriceFen: i.priceFen, unitPriceFen: i.memberPriceFen })),
    goodsFen: 21300, memberGoodsFen: 19300, memberDiscountFen: 2000, couponId: input.couponId ?? null, couponFen, discountFen: 2000 + couponFen,
    shippingFen: 0, freeShipping: 'tier', freeShippingOverFen: 9900, pointsBalance: 1280, maxPoints: Math.min(1280, Math.floor(afterCoupon / 2)),
    pointsToUse: input.pointsToUse, pointsDiscountFen: input.pointsToUse, payableFen: afterCoupon - input.pointsToUse,
  };
}

let fake: FakeWx;
let placed: PlaceOrderInput[];
let quoted: Array<{ pointsToUse: number; couponId?: string }>;
// Order requests the server got but whose answer never reached the phone (a timeout).
let answersLost: number;
let cartWrites: unknown[];

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
  placed = [];
  quoted = [];
  cartWrites = [];
  answersLost = 0;
  fake.setHandler(
    routes({
      'GET /api/mp/cart': () => ({ status: 200, body: cart }),
      'GET /api/mp/wallet': () => ({ status: 200, body: wallet }),
      'GET /api/mp/addresses': () => ({ status: 200, body: [address] }),
      'PUT /api/mp/cart/items': (req) => {
        cartWrites.push(req.data);
        return { status: 200, body: { items: [] } };
      },
      'POST /api/mp/checkout/quote': (req) => {
        const input = req.data as { pointsToUse: number; couponId?: string };
        quoted.push({ pointsToUse: input.pointsToUse, ...(input.couponId ? { couponId: input.couponId } : {}) });
        return { status: 200, body: priced(input) };
      },
      'POST /api/mp/orders': (req) => {
        const input = req.data as PlaceOrderInput;
        placed.push(input);
        if (answersLost > 0 && answersLost--) return 'timeout';
        const q = priced(input);
        const order = {
          id: ORDER_ID, orderNo: '2612041234567890', status: 'pending_payment', items: [], goodsFen: q.goodsFen, discountFen: q.discountFen,
          pointsUsed: input.pointsToUse, pointsDiscountFen: q.pointsDiscountFen, shippingFen: 0, payableFen: q.payableFen,
          address, createdAt: '2026-12-04T02:00:00.000Z', paidAt: null, expiresAt: '2026-12-04T02:30:00.000Z', shipping: null,
        };
        return { status: 200, body: { order, payment: { timeStamp: '1795000000', nonceStr: 'n0nce', package: 'prepay_id=wx123', signType: 'RSA', paySign: 'c2lnbg==' } } };
      },
    }),
  );
});

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await simulate.sleep(0);
}

async function open() {
  const page = simulate.render(pageId);
  page.attach(document.createElement('parent-wrapper'));
  await page.instance.onLoad({ from: 'cart' });
  await settle();
  return page;
}

const text = (page: ReturnType<typeof simulate.render>, selector: string) => page.querySelector(selector)?.dom?.textContent;

describe('checkout page', () => {
  it('shows the server quote before paying: member discount, shipping, points off until turned on', async () => {
    const page = await open();
    expect(quoted).toEqual([{ pointsToUse: 0 }]);
    expect(text(page, '.goods')).toBe('¥213.00');
    expect(text(page, '.member-discount')).toBe('-¥20.00');
    expect(text(page, '.shipping')).toBe('包邮（会员权益）');
    expect(text(page, '.payable')).toBe('¥193.00');
    expect(text(page, '.points-hint')).toBe('可用 1280 积分抵 ¥12.80');
    expect(text(page, '.receiver')).toBe('林雪 138****6392');
    expect(page.querySelector('.points-switch')?.data.checked).toBe(false);
    expect(page.querySelector('.points-discount')).toBeUndefined();

    await page.instance.togglePoints({ detail: { value: true } });
    await settle();
    expect(quoted).toEqual([{ pointsToUse: 0 }, { pointsToUse: 0 }, { pointsToUse: 1280 }]);
    expect(page.querySelector('.points-switch')?.data.checked).toBe(true);
    expect(text(page, '.points-discount')).toBe('-¥12.80');
    expect(text(page, '.payable')).toBe('¥180.20');
  });

  it('picks a coupon the goods reach, re-quotes, and places the order with exactly the quoted coupon and points', async () => {
    const page = await open();
    expect(text(page, '.coupon-hint')).toBe('1 张可用');
    page.instance.openCoupons();
    await settle();
    const choices = page.querySelectorAll('.coupon-choice');
    expect(choices.map((c) => c.dom?.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '不使用优惠券', '满150减15满¥150.00减¥15.00 · 2026-12-31 到期', '满300减40满¥300.00减¥40.00 · 2026-12-31 到期未满足条件',
    ]);
    // The one the goods do not reach cannot be picked.
    await page.instance.pickCoupon({ currentTarget: { dataset: { id: wallet.coupons[1]!.id } } });
    expect(quoted).toHaveLength(1);
    await page.instance.pickCoupon({ currentTarget: { dataset: { id: COUPON } } });
    await page.instance.togglePoints({ detail: { value: true } });
    await settle();
    expect(text(page, '.coupon-amount')).toBe('-¥15.00');
    expect(text(page, '.payable')).toBe(`¥${((17800 - 1280) / 100).toFixed(2)}`);

    page.querySelector('.submit')?.dispatchEvent('tap');
    page.querySelector('.submit')?.dispatchEvent('tap');
    await settle();
    expect(placed).toEqual([{ items: [{ skuId: SKU_1, quantity: 2 }, { skuId: SKU_2, quantity: 1 }], addressId: address.id, pointsToUse: 1280, couponId: COUPON }]);
    const orderRequest = fake.requests.find((r) => r.url.endsWith('/api/mp/orders'));
    expect(orderRequest?.header['Idempotency-Key']).toBeTruthy();
    expect(fake.payments).toEqual([{ timeStamp: '1795000000', nonceStr: 'n0nce', package: 'prepay_id=wx123', signType: 'RSA', paySign: 'c2lnbg==' }]);
    expect(cartWrites).toEqual([{ skuId: SKU_1, quantity: 0 }, { skuId: SKU_2, quantity: 0 }]);
    expect(fake.navigations).toEqual([`/packages/orders/detail/index?id=${ORDER_ID}&payment=paid`]);
  });

  it('a re-tap after a timeout sends the order again under the same Idempotency-Key; the next order gets a new one', async () => {
    answersLost = 1;
    const page = await open();
    await page.instance.submit();
    await settle();
    expect(fake.toasts).toEqual(['网络超时，请稍后重试']);
    expect(fake.payments).toEqual([]);

    await page.instance.submit();
    await settle();
    const keys = fake.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/mp/orders')).map((r) => r.header['Idempotency-Key']);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(fake.navigations).toEqual([`/packages/orders/detail/index?id=${ORDER_ID}&payment=paid`]);

    // Answered: another order of the same goods is another write.
    const again = await open();
    await again.instance.submit();
    await settle();
    const after = fake.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/mp/orders')).map((r) => r.header['Idempotency-Key']);
    expect(after).toHaveLength(3);
    expect(after[2]).not.toBe(keys[0]);
  });

  it('sends the member to the unpaid order when the pay sheet is closed', async () => {
    fake.paymentResult = 'cancel';
    const page = await open();
    await page.instance.submit();
    await settle();
    expect(placed[0].pointsToUse).toBe(0);
    expect(placed[0].couponId).toBeUndefined();
    expect(fake.navigations).toEqual([`/packages/orders/detail/index?id=${ORDER_ID}&payment=cancelled`]);
  });

  it('shows the shipping fee and a disabled points switch for a small order without points, and a retry when pricing fails', async () => {
    let fail = true;
    fake.setHandler(
      routes({
        'GET /api/mp/cart': () => ({ status: 200, body: { items: [{ ...cart.items[1]!, priceFen: 2900, memberPriceFen: 2900 }] } }),
        'GET /api/mp/wallet': () => ({ status: 200, body: { coupons: [], shippingCardUntil: null } }),
        'GET /api/mp/addresses': () => ({ status: 200, body: [address] }),
        'POST /api/mp/checkout/quote': () =>
          fail
            ? { status: 503, body: { code: 'unavailable', message: 'Service unavailable' } }
            : {
                status: 200,
                body: { ...priced({ pointsToUse: 0 }), goodsFen: 2900, memberGoodsFen: 2900, memberDiscountFen: 0, discountFen: 0, shippingFen: 1000, freeShipping: null,
                  pointsBalance: 0, maxPoints: 0, payableFen: 3900 },
              },
      }),
    );
    const page = await open();
    expect(page.querySelector('.summary')).toBeUndefined();
    expect(text(page, '.payable')).toBe('--');
    expect(page.querySelector('.submit')?.data.disabled).toBe(true);
    fail = false;
    await page.instance.retryQuote();
    await settle();
    expect(text(page, '.shipping')).toBe('¥10.00');
    expect(text(page, '.free-shipping-hint')).toBe('再买 ¥70.00 包邮');
    expect(text(page, '.payable')).toBe('¥39.00');
    expect(page.querySelector('.member-discount')).toBeUndefined();
    expect(page.querySelector('.points-switch')?.data).toMatchObject({ checked: false, disabled: true });
    expect(text(page, '.coupon-hint')).toBe('无可用券');
  });

  it('asks for an address before placing an order when the member has none', async () => {
    fake.setHandler(
      routes({
        'GET /api/mp/cart': () => ({ status: 200, body: cart }),
        'GET /api/mp/wallet': () => ({ status: 200, body: wallet }),
        'GET /api/mp/addresses': () => ({ status: 200, body: [] }),
        'POST /api/mp/checkout/quote': (req) => ({ status: 200, body: priced(req.data as { pointsToUse: number }) }),
      }),
    );
    const page = await open();
    expect(text(page, '.add-address')).toBe('＋ 添加收货地址');
    await page.instance.submit();
    expect(fake.toasts).toEqual(['请先添加收货地址']);
    expect(fake.requests.some((r) => r.method === 'POST' && r.url.endsWith('/api/mp/orders'))).toBe(false);
  });
});
