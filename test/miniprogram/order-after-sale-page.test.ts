/**
 * @jest-environment jsdom
 */
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes, type FakeWx } from './helpers/fake-wx';
import type { Order } from '../../miniprogram/src/models/api-types';
import type { AfterSale } from '../../miniprogram/src/models/after-sale.model';

const detailId = loadPage('packages/orders/detail/index');

const paidOrder: Order & { expiresAt: string } = {
  id: '9101', orderNo: '2612041234567890', status: 'paid',
  items: [{ skuId: 's1', title: '白茶', skuName: '饼', quantity: 1, unitPriceFen: 15000 }],
  goodsFen: 15000, discountFen: 0, pointsUsed: 2000, pointsDiscountFen: 2000, shippingFen: 0, payableFen: 13000,
  address: null, createdAt: '2026-12-04T02:00:00Z', paidAt: '2026-12-04T02:01:00Z', expiresAt: '2026-12-04T02:30:00Z', shipping: null,
};

// As POST /api/mp/orders/:id/after-sales answers (server/modules/store/after-sales.schemas.ts).
const requested = (reason: string): AfterSale => ({
  id: 'as-1', orderId: '9101', lines: null, amountFen: 13000, reason, requestedBy: 'member', status: 'requested',
  merchantNote: null, createdAt: '2026-12-04T03:00:00Z', decidedAt: null, settledAt: null,
});

let fake: FakeWx;
beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
});

describe('order detail page: 申请退款', () => {
  it('asks for a refund with a chosen reason after the member confirms, then shows the request waiting for the merchant', async () => {
    let afterSales: AfterSale[] = [];
    const posted: unknown[] = [];
    fake.setHandler(
      routes({
        'GET /api/mp/orders/9101': () => ({ status: 200, body: paidOrder }),
        'GET /api/mp/orders/9101/after-sales': () => ({ status: 200, body: afterSales }),
        'POST /api/mp/orders/9101/after-sales': (req) => {
          posted.push(req.data);
          afterSales = [requested((req.data as { reason: string }).reason)];
          return { status: 200, body: afterSales[0] };
        },
      }),
    );
    const page = mount(detailId);
    await page.instance.onLoad({ id: '9101' });
    await settle();
    expect(page.querySelector('.status')?.dom?.textContent).toBe('待发货');
    expect(page.querySelector('.after-sale')).toBeUndefined();

    page.querySelector('.request-refund')?.dispatchEvent('tap');
    await settle();
    expect(page.querySelector('.request-refund')).toBeUndefined();
    // Without a reason nothing is sent.
    await page.instance.submitRefund();
    expect(posted).toEqual([]);
    expect(fake.toasts).toContain('请选择退款原因');

    page.querySelectorAll('.refund-reason')[1]?.dispatchEvent('tap');
    await settle();
    fake.modalAnswer = false;
    await page.instance.submitRefund();
    expect(posted).toEqual([]);

    fake.modalAnswer = true;
    await page.instance.submitRefund();
    await settle();
    expect(posted).toEqual([{ reason: '商品破损或有瑕疵' }]);
    expect(fake.toasts).toContain('已提交申请');
    expect(page.querySelector('.refund-form')).toBeUndefined();
    expect(page.querySelector('.after-sale-status')?.dom?.textContent).toBe('退款申请已提交，等待商家处理');
    // One open request at a time: the button is gone until the merchant decides.
    expect(page.querySelector('.request-refund')).toBeUndefined();
  });

  it("shows the merchant's rejection and offers to ask again; no refund on an unpaid order", async () => {
    const rejected: AfterSale = { ...requested('不想要了'), status: 'rejected', merchantNote: '已发货，请拒收后退款', decidedAt: '2026-12-04T04:00:00Z' };
    fake.setHandler(
      routes({
        'GET /api/mp/orders/9101': () => ({ status: 200, body: paidOrder }),
        'GET /api/mp/orders/9101/after-sales': () => ({ status: 200, body: [rejected] }),
        'GET /api/mp/orders/9102': () => ({ status: 200, body: { ...paidOrder, id: '9102', status: 'pending_payment', paidAt: null } }),
      }),
    );
    const page = mount(detailId);
    await page.instance.onLoad({ id: '9101' });
    await settle();
    expect(page.querySelector('.after-sale-status')?.dom?.textContent).toBe('商家未同意退款');
    expect(page.querySelector('.after-sale-note')?.dom?.textContent).toBe('原因：已发货，请拒收后退款');
    expect(page.querySelector('.request-refund')).toBeDefined();

    const unpaid = mount(detailId);
    await unpaid.instance.onLoad({ id: '9102' });
    await settle();
    expect(unpaid.querySelector('.request-refund')).toBeUndefined();
    expect(fake.requests.some((r) => r.url.includes('/9102/after-sales'))).toBe(false);
  });

  it('确认收货 on a shipped order after the member confirms: completed, the button gone', async () => {
    const shipped = { ...paidOrder, status: 'shipped' as const, shipping: { company: 'SF', trackingNo: 'SF1' } };
    let confirmed = 0;
    fake.setHandler(
      routes({
        'GET /api/mp/orders/9101': () => ({ status: 200, body: shipped }),
        'GET /api/mp/orders/9101/after-sales': () => ({ status: 200, body: [] }),
        'POST /api/mp/orders/9101/confirm-receipt': () => {
          confirmed += 1;
          return { status: 200, body: { ...shipped, status: 'completed' } };
        },
      }),
    );
    const page = mount(detailId);
    await page.instance.onLoad({ id: '9101' });
    await settle();
    expect(page.querySelector('.confirm-receipt')).toBeDefined();
    fake.modalAnswer = false;
    await page.instance.confirmReceipt();
    expect(confirmed).toBe(0);
    fake.modalAnswer = true;
    await page.instance.confirmReceipt();
    await settle();
    expect(confirmed).toBe(1);
    expect(page.querySelector('.status')?.dom?.textContent).toBe('已完成');
    expect(page.querySelector('.confirm-receipt')).toBeUndefined();
    expect(fake.toasts).toContain('已确认收货');
  });
});
