/**
 * @jest-environment jsdom
 */
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes, sampleMember, type FakeWx } from './helpers/fake-wx';

const homeId = loadPage('pages/home/index');
const pointsId = loadPage('packages/points/index');

let fake: FakeWx;

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
});



describe('home page', () => {
  it('shows the member card from GET /api/mp/me', async () => {
    fake.setHandler(routes({ 'GET /api/mp/me': () => ({ status: 200, body: sampleMember }) }));
    const page = mount(homeId);
    page.instance.onShow();
    await settle();
    expect(page.dom?.textContent).toContain('金卡会员');
    expect(page.dom?.textContent).toContain('1280');
  });

  it('says so when the card cannot be loaded', async () => {
    fake.setHandler(routes({ 'GET /api/mp/me': () => ({ status: 503, body: { code: 'unavailable', message: 'Service unavailable' } }) }));
    const page = mount(homeId);
    page.instance.onShow();
    await settle();
    expect(fake.toasts).toEqual(['服务暂时不可用，请稍后再试']);
    expect(page.dom?.textContent).toContain('会员卡加载失败');
  });
});

describe('points history page', () => {
  it('pages through the history with the cursor and stops at the end', async () => {
    const cursors: (string | null)[] = [];
    fake.setHandler(
      routes({
        'GET /api/mp/me': () => ({ status: 200, body: sampleMember }),
        'GET /api/mp/points/history': (_req, query) => {
          const cursor = query.get('cursor');
          cursors.push(cursor);
          if (!cursor) return { status: 200, body: { items: [{ id: '2', delta: 5, reason: '每日签到', code: 'check_in', label: '每日签到', orderNo: null, createdAt: '2026-11-23T01:00:00.000Z' }], nextCursor: 'c2' } };
          return { status: 200, body: { items: [{ id: '1', delta: 130, reason: '购物奖励 2611201234567890', code: 'store_purchase', label: '购物奖励', orderNo: '2611201234567890', createdAt: '2026-11-20T01:00:00.000Z' }], nextCursor: null } };
        },
      }),
    );
    const page = mount(pointsId);
    await page.instance.onLoad();
    await page.instance.loadMore();
    await page.instance.loadMore();
    await settle();
    expect(cursors).toEqual([null, 'c2']);
    expect(page.instance.data.entries.map((e: { reasonText: string; deltaText: string }) => `${e.reasonText} ${e.deltaText}`))
      .toEqual(['每日签到 +5', '购物奖励 +130']);
    expect(page.querySelectorAll('.entry-order').map((n) => n.dom?.textContent)).toEqual(['订单 2611201234567890']);
    expect(page.dom?.textContent).toContain('没有更多了');
    expect(page.dom?.textContent).toContain('200 积分即将过期');
  });
});
