/**
 * @jest-environment jsdom
 */
import simulate from 'miniprogram-simulate';
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes, sampleMember, type FakeWx } from './helpers/fake-wx';
import type { Cart, CartItem, Order } from '../../miniprogram/src/models/api-types';

simulate.load({ id: 'button', tagName: 'wx-button', template: '<slot/>', properties: { disabled: { type: Boolean, value: false } } });
const cartId = loadPage('packages/store/cart/index');
const ordersId = loadPage('packages/orders/list/index');
const privacyId = loadPage('packages/privacy/index');

let fake: FakeWx;

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
});



describe('cart page', () => {
  it('changes quantities within stock and holds checkout while a line exceeds it', async () => {
    const line: CartItem = { skuId: 's1', productId: 'p1', title: '羊毛围巾', skuName: '燕麦色', imageUrl: null, priceFen: 9900, memberPriceFen: 7900, quantity: 3, stock: 2 };
    let cart: Cart = { items: [line] };
    fake.setHandler(
      routes({
        'GET /api/mp/cart': () => ({ status: 200, body: cart }),
        'PUT /api/mp/cart/items': (req) => {
          const { quantity } = req.data as { quantity: number };
          cart = { items: quantity > 0 ? [{ ...line, quantity }] : [] };
          return { status: 200, body: cart };
        },
      }),
    );
    const page = mount(cartId);
    await page.instance.load();
    await settle();
    expect(page.querySelector('.warn')?.dom?.textContent).toBe('库存仅剩 2 件，请减少数量');
    expect(page.querySelector('.primary-button')?.data.disabled).toBe(true);
    page.instance.checkout();
    expect(fake.navigations).toEqual([]);

    await page.instance.changeQuantity({ currentTarget: { dataset: { sku: 's1', delta: 1 } } });
    expect(fake.requests.find((r) => r.method === 'PUT')?.data).toEqual({ skuId: 's1', quantity: 2 });
    await settle();
    expect(page.querySelector('.warn')).toBeUndefined();
    expect(page.dom?.textContent).toContain('¥158.00');
    page.instance.checkout();
    expect(fake.navigations).toEqual(['/packages/store/checkout/index?from=cart']);

    await page.instance.changeQuantity({ currentTarget: { dataset: { sku: 's1', delta: -2 } } });
    await settle();
    expect(page.dom?.textContent).toContain('购物车是空的');
  });
});

describe('orders list page', () => {
  it('opens on the tab asked for and asks the server for that status only', async () => {
    const order: Order & { expiresAt: string } = {
      id: '1', orderNo: 'SB1', status: 'shipped', items: [{ skuId: 's', title: '围巾', skuName: '燕麦色', quantity: 2, unitPriceFen: 7900 }],
      goodsFen: 15800, discountFen: 0, pointsUsed: 0, pointsDiscountFen: 0, shippingFen: 0, payableFen: 15800,
      address: null, createdAt: '2026-11-20T02:00:00Z', paidAt: '2026-11-20T02:01:00Z', expiresAt: '2026-11-20T02:30:00Z', shipping: { company: '顺丰', trackingNo: 'SF1' },
    };
    const statuses: (string | null)[] = [];
    fake.setHandler(
      routes({
        'GET /api/mp/orders': (_req, query) => {
          statuses.push(query.get('status'));
          return { status: 200, body: query.get('status') === 'shipped' ? [order] : [] };
        },
      }),
    );
    const page = mount(ordersId);
    page.instance.onLoad({ status: 'shipped' });
    await page.instance.load();
    await settle();
    expect(page.querySelector('.status')?.dom?.textContent).toBe('已发货');
    expect(page.dom?.textContent).toContain('共 2 件，实付¥158.00');

    page.instance.switchTab({ currentTarget: { dataset: { status: '' } } });
    await settle();
    expect(statuses).toEqual(['shipped', null]);
    expect(page.dom?.textContent).toContain('还没有订单');
  });
});

describe('privacy page', () => {
  it('shows the exported data and erases only after two confirmations, ending the session', async () => {
    let erased = 0;
    fake.setHandler(
      routes({
        'GET /api/mp/me/export': () => ({ status: 200, body: { member: { id: sampleMember.id }, pointsEntries: [] } }),
        'POST /api/mp/me/erase': (req) => {
          expect(req.data).toEqual({ confirm: true });
          erased += 1;
          return { status: 204 };
        },
      }),
    );
    const page = mount(privacyId);
    expect(page.dom?.textContent).toContain('签到、积分和绑定订单均无需关注公众号');
    await page.instance.exportData();
    await settle();
    expect(page.instance.data.exportText).toContain(`会员编号：${sampleMember.id}`);
    expect(page.instance.data.rawExport).toContain(`"id": "${sampleMember.id}"`);

    fake.modalAnswer = false;
    await page.instance.erase();
    expect(erased).toBe(0);

    fake.modalAnswer = true;
    await page.instance.erase();
    expect(fake.modals).toHaveLength(3);
    expect(erased).toBe(1);
    expect(fake.storage.has('snowball.session')).toBe(false);
    expect(fake.navigations).toEqual(['/pages/home/index']);
  });
});
