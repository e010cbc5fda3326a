/**
 * @jest-environment jsdom
 */
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes, type FakeWx } from './helpers/fake-wx';
import type { Order } from '../../miniprogram/src/models/api-types';
import { clockText, secondsLeft } from '../../miniprogram/src/utils/countdown';

/** The order detail page counts down to the unpaid order's expiresAt (the server's), and stops offering to pay past it. */
const detailId = loadPage('packages/orders/detail/index');
const NOW = Date.parse('2026-12-04T02:00:00.000Z');

const order = (over: Partial<Order>): Order => ({
  id: '9001', orderNo: '2612041234567890', status: 'pending_payment',
  items: [{ skuId: 's1', title: '羊毛围巾', skuName: '燕麦色', quantity: 1, unitPriceFen: 7900 }],
  goodsFen: 7900, discountFen: 0, pointsUsed: 0, pointsDiscountFen: 0, shippingFen: 1000, payableFen: 8900,
  address: null, createdAt: '2026-12-04T01:45:00.000Z', paidAt: null, expiresAt: new Date(NOW + 15 * 60_000).toISOString(), shipping: null,
  ...over,
});

let fake: FakeWx;
let current: Order;

beforeEach(() => {
  // Intervals and the clock are the test's; setTimeout stays real so that requests and setData settle.
  jest.useFakeTimers({ now: NOW, doNotFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask'] });
  fake = createFakeWx();
  installFakeWx(fake);
  current = order({});
  fake.setHandler(
    routes({
      'GET /api/mp/orders/9001': () => ({ status: 200, body: current }),
      'POST /api/mp/orders/9001/cancel': () => {
        current = order({ status: 'cancelled' });
        return { status: 200, body: current };
      },
    }),
  );
});
afterEach(() => jest.useRealTimers());

const countdown = (page: ReturnType<typeof mount>) => page.querySelector('.pay-countdown')?.dom?.textContent ?? null;

describe('pay countdown', () => {
  it('reads the seconds left and writes them as a clock', () => {
    expect(secondsLeft('2026-12-04T02:15:00.000Z', NOW)).toBe(900);
    expect(secondsLeft('2026-12-04T02:00:00.400Z', NOW)).toBe(1);
    expect(secondsLeft('2026-12-04T01:59:00.000Z', NOW)).toBe(0);
    expect(secondsLeft('not a time', NOW)).toBe(0);
    expect([clockText(900), clockText(59), clockText(3723), clockText(0)]).toEqual(['15:00', '00:59', '1:02:03', '00:00']);
  });

  it('counts down to the server’s expiresAt and, past it, takes the pay button away', async () => {
    const page = mount(detailId);
    await page.instance.onLoad({ id: '9001' });
    await settle();
    expect(countdown(page)).toBe('剩余 15:00，超时订单将自动取消');
    expect(page.querySelector('.pay')).toBeDefined();

    jest.advanceTimersByTime(61_000);
    await settle();
    expect(countdown(page)).toBe('剩余 13:59，超时订单将自动取消');

    jest.advanceTimersByTime(14 * 60_000);
    await settle();
    expect(countdown(page)).toBe('支付已超时，订单将自动取消');
    expect(page.querySelector('.pay')).toBeUndefined();
    expect(page.querySelector('.cancel')).toBeDefined();
    // Done: no timer left running.
    expect(jest.getTimerCount()).toBe(0);
  });

  it('shows no countdown for an order already paid, nor once it is cancelled, and stops when the page closes', async () => {
    current = order({ status: 'paid', paidAt: '2026-12-04T01:50:00.000Z' });
    const paid = mount(detailId);
    await paid.instance.onLoad({ id: '9001' });
    await settle();
    expect(countdown(paid)).toBeNull();
    expect(jest.getTimerCount()).toBe(0);

    current = order({});
    const page = mount(detailId);
    await page.instance.onLoad({ id: '9001' });
    await settle();
    expect(countdown(page)).toBe('剩余 15:00，超时订单将自动取消');
    expect(jest.getTimerCount()).toBe(1);
    await page.instance.cancel();
    await settle();
    expect(page.querySelector('.status')?.dom?.textContent).toBe('已取消');
    expect(countdown(page)).toBeNull();
    expect(jest.getTimerCount()).toBe(0);

    current = order({});
    const again = mount(detailId);
    await again.instance.onLoad({ id: '9001' });
    expect(jest.getTimerCount()).toBe(1);
    again.instance.onUnload();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('an order already past its time when opened cannot be paid', async () => {
    current = order({ expiresAt: new Date(NOW - 1000).toISOString() });
    const page = mount(detailId);
    await page.instance.onLoad({ id: '9001' });
    await settle();
    expect(countdown(page)).toBe('支付已超时，订单将自动取消');
    expect(page.querySelector('.pay')).toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
  });
});
