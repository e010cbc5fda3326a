/**
 * @jest-environment jsdom
 */
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes, sampleMember, type FakeWx } from './helpers/fake-wx';
import type { MallItem, Order } from '../../miniprogram/src/models/api-types';
import { selectAddress } from '../../miniprogram/src/utils/address-selection';

const detailId = loadPage('packages/orders/detail/index');
const mallId = loadPage('packages/mall/index');

// As the server sends it; unpaid, it can still be paid for the next half hour.
const baseOrder: Order = {
  id: '9001', orderNo: 'SB2026112300001', status: 'pending_payment',
  items: [{ skuId: 's1', title: '羊毛围巾', skuName: '燕麦色', quantity: 1, unitPriceFen: 7900 }],
  goodsFen: 9900, discountFen: 2000, pointsUsed: 0, pointsDiscountFen: 0, shippingFen: 0, payableFen: 7900,
  address: null, createdAt: '2026-11-23T02:00:00Z', paidAt: null, expiresAt: new Date(Date.now() + 30 * 60_000).toISOString(), shipping: null,
};

let fake: FakeWx;

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
});



describe('order detail page', () => {
  it('pays an unpaid order again and waits for the server to confirm it', async () => {
    let order = { ...baseOrder };
    let reads = 0;
    fake.setHandler(
      routes({
        'GET /api/mp/orders/9001': () => {
          reads += 1;
          return { status: 200, body: order };
        },
        'POST /api/mp/orders/9001/pay': () => {
          // The notification arrives while the pay sheet is open.
          order = { ...order, status: 'paid', paidAt: '2026-11-23T02:01:00Z' };
          return { status: 200, body: { payment: { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx9', signType: 'RSA', paySign: 's' } } };
        },
      }),
    );
    const page = mount(detailId);
    await page.instance.onLoad({ id: '9001' });
    await settle();
    expect(page.querySelector('.status')?.dom?.textContent).toBe('待付款');
    expect(page.querySelector('.pay')).toBeDefined();

    await page.instance.pay();
    await settle();
    expect(fake.payments).toEqual([{ timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx9', signType: 'RSA', paySign: 's' }]);
    expect(reads).toBe(2);
    expect(page.querySelector('.status')?.dom?.textContent).toBe('待发货');
    expect(page.querySelector('.pay')).toBeUndefined();
  });

  it('cancels an unpaid order after the member confirms, and not when they decline', async () => {
    fake.setHandler(
      routes({
        'GET /api/mp/orders/9001': () => ({ status: 200, body: baseOrder }),
        'POST /api/mp/orders/9001/cancel': () => ({ status: 200, body: { ...baseOrder, status: 'cancelled' } }),
      }),
    );
    const page = mount(detailId);
    await page.instance.onLoad({ id: '9001' });
    fake.modalAnswer = false;
    await page.instance.cancel();
    expect(fake.requests.some((r) => r.url.endsWith('/cancel'))).toBe(false);

    fake.modalAnswer = true;
    await page.instance.cancel();
    await settle();
    expect(page.querySelector('.status')?.dom?.textContent).toBe('已取消');
    expect(fake.toasts).toContain('订单已取消');
  });

  it("shows the Chinese message for another member's order", async () => {
    fake.setHandler(routes({ 'GET /api/mp/orders/777': () => ({ status: 404, body: { code: 'order_not_found', message: 'x' } }) }));
    const page = mount(detailId);
    await page.instance.onLoad({ id: '777' });
    await settle();
    expect(page.querySelector('.error-text')?.dom?.textContent).toBe('没有找到这个订单，请核对订单号');
    expect(page.querySelector('.loading')).toBeUndefined();
    expect(page.instance.data.order).toBeNull();
  });

  it('retries a failed load of the order', async () => {
    let down = true;
    const normal = routes({ 'GET /api/mp/orders/a1b2c3d4-0000-4000-8000-000000000001': () => ({ status: 200, body: { ...baseOrder, id: 'a1b2c3d4-0000-4000-8000-000000000001', orderNo: '2611231234567890' } }) });
    fake.setHandler((req) => (down && !req.url.includes('/api/mp/login') ? 'network_error' : normal(req)));
    const page = mount(detailId);
    await page.instance.onLoad({ id: 'a1b2c3d4-0000-4000-8000-000000000001' });
    await settle();
    expect(page.querySelector('.error-text')?.dom?.textContent).toBe('网络连接失败，请检查网络后重试');
    down = false;
    await page.instance.retry();
    await settle();
    expect(page.querySelector('.load-error')).toBeUndefined();
    expect(page.querySelector('.status')?.dom?.textContent).toBe('待付款');
  });
});

describe('points mall page', () => {
  const items: MallItem[] = [
    { id: 'coupon-5', kind: 'coupon', name: '满50减5', description: '全店通用', imageUrl: null, pointsCost: 300, stock: 10, perMemberLimit: 2, redeemedByMe: 0, needsAddress: false },
    { id: 'gift-cup', kind: 'gift', name: '保温杯', description: '限量', imageUrl: null, pointsCost: 1000, stock: 3, perMemberLimit: 1, redeemedByMe: 0, needsAddress: true },
    { id: 'card-year', kind: 'shipping_card', name: '包邮卡（年卡）', description: '', imageUrl: null, pointsCost: 5000, stock: 5, perMemberLimit: null, redeemedByMe: 0, needsAddress: false },
  ];
  let redemptions: unknown[];
  let addresses: unknown[];

  beforeEach(() => {
    redemptions = [];
    addresses = [];
    fake.setHandler(
      routes({
        'GET /api/mp/mall/items': () => ({ status: 200, body: items }),
        'GET /api/mp/me': () => ({ status: 200, body: sampleMember }),
        'GET /api/mp/addresses': () => ({ status: 200, body: addresses }),
        'POST /api/mp/mall/redemptions': (req) => {
          redemptions.push(req.data);
          return { status: 200, body: { id: 'r1', itemId: (req.data as { itemId: string }).itemId, pointsSpent: 300, pointsBalance: 980, status: 'fulfilled' } };
        },
      }),
    );
  });

  it('shows why an item cannot be redeemed and redeems a coupon', async () => {
    const page = mount(mallId);
    await page.instance.onShow();
    await settle();
    expect(page.querySelectorAll('.redeem').map((b) => b.dom?.textContent)).toEqual(['兑换', '兑换', '积分不足']);

    await page.instance.redeem({ currentTarget: { dataset: { id: 'card-year' } } });
    expect(redemptions).toHaveLength(0);

    await page.instance.redeem({ currentTarget: { dataset: { id: 'coupon-5' } } });
    expect(redemptions).toEqual([{ itemId: 'coupon-5' }]);
    expect(fake.toasts).toContain('兑换成功，剩余 980 积分');
  });

  it('asks for an address for a physical gift and finishes the redemption once one is picked', async () => {
    const page = mount(mallId);
    await page.instance.onShow();
    await page.instance.redeem({ currentTarget: { dataset: { id: 'gift-cup' } } });
    expect(redemptions).toHaveLength(0);
    expect(fake.navigations).toEqual(['/packages/addresses/list/index?select=1']);

    selectAddress('addr-9');
    await page.instance.onShow();
    expect(redemptions).toEqual([{ itemId: 'gift-cup', addressId: 'addr-9' }]);
  });

  it('uses the default address when the member has one', async () => {
    addresses = [{ id: 'addr-1', name: '林雪', phone: '138****6392', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 88 号', isDefault: true }];
    const page = mount(mallId);
    await page.instance.onShow();
    await page.instance.redeem({ currentTarget: { dataset: { id: 'gift-cup' } } });
    expect(redemptions).toEqual([{ itemId: 'gift-cup', addressId: 'addr-1' }]);
  });
});
