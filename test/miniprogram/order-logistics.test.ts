/**
 * @jest-environment jsdom
 */
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes } from './helpers/fake-wx';
import type { Order } from '../../miniprogram/src/models/api-types';

/** The orders list shows a shipped order's carrier and tracking number (the server's shipping) and copies the number. */
const listId = loadPage('packages/orders/list/index');

const order = (id: string, over: Partial<Order>): Order => ({
  id, orderNo: `26120412345678${id.slice(-2)}`, status: 'paid',
  items: [{ skuId: 's1', title: '羊毛围巾', skuName: '燕麦色', quantity: 1, unitPriceFen: 7900 }],
  goodsFen: 7900, discountFen: 0, pointsUsed: 0, pointsDiscountFen: 0, shippingFen: 0, payableFen: 7900,
  address: null, createdAt: '2026-12-01T01:45:00.000Z', paidAt: '2026-12-01T01:50:00.000Z', expiresAt: '2026-12-01T02:15:00.000Z', shipping: null,
  ...over,
});

it('shows the logistics of shipped orders only, and copies the tracking number without opening the order', async () => {
  const fake = createFakeWx();
  installFakeWx(fake);
  const copied: string[] = [];
  (globalThis as unknown as { wx: Record<string, unknown> }).wx.setClipboardData = (o: { data: string }) => void copied.push(o.data);
  const orders = [order('o-01', { status: 'shipped', shipping: { company: '顺丰速运', trackingNo: 'SF1234567890' } }), order('o-02', {})];
  fake.setHandler(routes({ 'GET /api/mp/orders': () => ({ status: 200, body: orders }) }));
  const page = mount(listId);
  page.instance.onLoad({});
  page.instance.onShow();
  await settle();
  const rows = page.querySelectorAll('.logistics');
  expect(rows.map((r) => r.dom?.textContent)).toEqual(['物流 顺丰速运 SF1234567890复制单号']);
  page.querySelector('.copy-tracking')?.dispatchEvent('tap', { bubbles: true, composed: true });
  await settle();
  expect(copied).toEqual(['SF1234567890']);
  expect(fake.navigations).toEqual([]);
  page.querySelectorAll('.order')[1]?.dispatchEvent('tap');
  await settle();
  expect(fake.navigations).toEqual(['/packages/orders/detail/index?id=o-02']);
});
