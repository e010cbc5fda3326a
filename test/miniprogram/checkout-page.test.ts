/**
 * @jest-environment jsdom
 */
import path from 'path';
import simulate from 'miniprogram-simulate';
import { createFakeWx, installFakeWx, routes, sampleMember, type FakeWx } from './helpers/fake-wx';
import type { Address, Cart, PlaceOrderInput } from '../../miniprogram/src/models/api-types';

// The built-in switch and button, redefined with the properties the test reads.
simulate.load({ id: 'switch', tagName: 'wx-switch', template: '<slot/>', properties: { checked: { type: Boolean, value: false }, disabled: { type: Boolean, value: false } } });
simulate.load({ id: 'button', tagName: 'wx-button', template: '<slot/>', properties: { disabled: { type: Boolean, value: false } } });
const root = path.resolve(__dirname, '../../miniprogram/src');
const pageId = simulate.load(path.join(root, 'packages/store/checkout/index'), { compiler: 'simulate', rootPath: root });

const address: Address = { id: 'addr-1', name: '林雪', phone: '138****6392', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 88 号', isDefault: true };
const cart: Cart = {
  items: [
    { skuId: 'sku-1', productId: 'p-1', title: '羊毛围巾', skuName: '燕麦色', imageUrl: null, priceFen: 9900, memberPriceFen: 8900, quantity: 2, stock: 10 },
    { skuId: 'sku-2', productId: 'p-2', title: '手套', skuName: '均码', imageUrl: null, priceFen: 1500, memberPriceFen: 1500, quantity: 1, stock: 10 },
  ],
};

let fake: FakeWx;
let placed: PlaceOrderInput[];
// Order requests the server got but whose answer never reached the phone (a timeout).
let answersLost: number;
let cartWrites: unknown[];

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
  placed = [];
  cartWrites = [];
  answersLost = 0;
  fake.setHandler(
    routes({
      'GET /api/mp/cart': () => ({ status: 200, body: cart }),
      'GET /api/mp/me': () => ({ status: 200, body: sampleMember }),
      'GET /api/mp/addresses': () => ({ status: 200, body: [address] }),
      'PUT /api/mp/cart/items': (req) => {
        cartWrites.push(req.data);
        return { status: 200, body: { items: [] } };
      },
      'POST /api/mp/orders': (req) => {
        const input = req.data as PlaceOrderInput;
        placed.push(input);
        if (answersLost > 0 && answersLost--) return 'timeout';
        const order = {
          id: '9001', orderNo: 'SB2026112300001', status: 'pending_payment', items: [], goodsFen: 21300, discountFen: 2000,
          pointsUsed: input.pointsToUse, pointsDiscountFen: input.pointsToUse, shippingFen: 0, payableFen: 19300 - input.pointsToUse,
          address, createdAt: '2026-11-23T02:00:00Z', paidAt: null, expiresAt: '2026-11-23T02:30:00Z', shipping: null,
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
  it('computes the payable from member prices and the points balance', async () => {
    const page = await open();
    expect(text(page, '.goods')).toBe('¥213.00');
    expect(text(page, '.member-discount')).toBe('-¥20.00');
    expect(text(page, '.points-discount')).toBe('-¥12.80');
    expect(text(page, '.payable')).toBe('¥180.20');
    expect(text(page, '.points-hint')).toBe('可用 1280 积分抵 ¥12.80');
    expect(text(page, '.receiver')).toBe('林雪 138****6392');
    expect(page.querySelector('.points-switch')?.data.checked).toBe(true);

    page.instance.togglePoints({ detail: { value: false } });
    await settle();
    expect(text(page, '.payable')).toBe('¥193.00');
    expect(page.querySelector('.points-discount')).toBeUndefined();
  });

  it('places the order with the points shown, pays with the signed parameters and opens the order', async () => {
    const page = await open();
    page.querySelector('.submit')?.dispatchEvent('tap');
    page.querySelector('.submit')?.dispatchEvent('tap');
    await settle();

    expect(placed).toEqual([{ items: [{ skuId: 'sku-1', quantity: 2 }, { skuId: 'sku-2', quantity: 1 }], addressId: 'addr-1', pointsToUse: 1280 }]);
    const orderRequest = fake.requests.find((r) => r.url.endsWith('/api/mp/orders'));
    expect(orderRequest?.header['Idempotency-Key']).toBeTruthy();
    expect(fake.payments).toEqual([{ timeStamp: '1795000000', nonceStr: 'n0nce', package: 'prepay_id=wx123', signType: 'RSA', paySign: 'c2lnbg==' }]);
    expect(cartWrites).toEqual([{ skuId: 'sku-1', quantity: 0 }, { skuId: 'sku-2', quantity: 0 }]);
    expect(fake.navigations).toEqual(['/packages/orders/detail/index?id=9001&payment=paid']);
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
    expect(fake.navigations).toEqual(['/packages/orders/detail/index?id=9001&payment=paid']);

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
    page.instance.togglePoints({ detail: { value: false } });
    await page.instance.submit();
    await settle();
    expect(placed[0].pointsToUse).toBe(0);
    expect(fake.navigations).toEqual(['/packages/orders/detail/index?id=9001&payment=cancelled']);
  });

  it('asks for an address before placing an order when the member has none', async () => {
    fake.setHandler(
      routes({
        'GET /api/mp/cart': () => ({ status: 200, body: cart }),
        'GET /api/mp/me': () => ({ status: 200, body: sampleMember }),
        'GET /api/mp/addresses': () => ({ status: 200, body: [] }),
      }),
    );
    const page = await open();
    expect(text(page, '.add-address')).toBe('＋ 添加收货地址');
    await page.instance.submit();
    expect(fake.toasts).toEqual(['请先添加收货地址']);
    expect(fake.requests.some((r) => r.method === 'POST' && r.url.endsWith('/api/mp/orders'))).toBe(false);
  });
});
