/**
 * @jest-environment jsdom
 */
import fs from 'fs';
import path from 'path';
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes, sampleMember, type FakeWx } from './helpers/fake-wx';
import type { Address, Cart, PointsHistoryPage } from '../../miniprogram/src/models/api-types';

/**
 * Pull-to-refresh on the pages whose content changes while they are open (我的, points, cart, addresses): the page
 * enables it, a pull loads from the server again, shows what changed, and ends the refresh.
 */
const mineId = loadPage('pages/mine/index');
const pointsId = loadPage('packages/points/index');
const cartId = loadPage('packages/store/cart/index');
const addressesId = loadPage('packages/addresses/list/index');

let fake: FakeWx;
let stops: number;

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
  stops = 0;
  (globalThis as unknown as { wx: Record<string, unknown> }).wx.stopPullDownRefresh = () => {
    stops += 1;
  };
});

const src = path.resolve(__dirname, '../../miniprogram/src');
const pageJson = (page: string) => JSON.parse(fs.readFileSync(path.join(src, `${page}.json`), 'utf8')) as { enablePullDownRefresh?: boolean };
const count = (url: string) => fake.requests.filter((r) => new URL(r.url).pathname === url).length;

describe('pull-to-refresh', () => {
  it('is enabled by every page that handles it, and only by those', () => {
    const pages = (function walk(dir: string): string[] {
      return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name === 'index.ts' ? [path.join(dir, 'index')] : []));
    })(src).map((p) => path.relative(src, p));
    const handles = pages.filter((p) => /\bonPullDownRefresh\(/.test(fs.readFileSync(path.join(src, `${p}.ts`), 'utf8'))).sort();
    const enabled = pages.filter((p) => pageJson(p).enablePullDownRefresh === true).sort();
    expect(enabled).toEqual(handles);
    for (const p of ['pages/mine/index', 'packages/points/index', 'packages/store/cart/index', 'packages/addresses/list/index', 'packages/review/index']) {
      expect(handles).toContain(p);
    }
  });

  it('我的: the card again (new points, a new nickname)', async () => {
    let card = { ...sampleMember };
    fake.setHandler(routes({ 'GET /api/mp/me': () => ({ status: 200, body: card }) }));
    const page = mount(mineId);
    await page.instance.onShow();
    await settle();
    expect(page.querySelector('.nickname')?.dom?.textContent).toBe('小雪');
    card = { ...sampleMember, nickname: '小雪同学', pointsBalance: 1300 };
    await page.instance.onPullDownRefresh();
    await settle();
    expect(page.querySelector('.nickname')?.dom?.textContent).toBe('小雪同学');
    expect(page.dom?.textContent).toContain('1300 积分');
    expect([count('/api/mp/me'), stops]).toEqual([2, 1]);
  });

  it('points: the balance and the first page again, replacing what was paged in', async () => {
    const entry = (id: string, delta: number) => ({ id, delta, reason: '每日签到', code: 'check_in', label: '每日签到', orderNo: null, createdAt: '2026-12-01T01:00:00.000Z' });
    let first: PointsHistoryPage = { items: [entry('2', 5)], nextCursor: 'c2' };
    let balance = 1280;
    const cursors: (string | null)[] = [];
    fake.setHandler(
      routes({
        'GET /api/mp/me': () => ({ status: 200, body: { ...sampleMember, pointsBalance: balance } }),
        'GET /api/mp/points/history': (_req, q) => {
          cursors.push(q.get('cursor'));
          return { status: 200, body: q.get('cursor') ? { items: [entry('1', 10)], nextCursor: null } : first };
        },
      }),
    );
    const page = mount(pointsId);
    await page.instance.onLoad();
    await page.instance.loadMore();
    await settle();
    expect(page.instance.data.entries.map((e: { id: string }) => e.id)).toEqual(['2', '1']);
    first = { items: [entry('3', 5), entry('2', 5)], nextCursor: 'c2' };
    balance = 1285;
    await page.instance.onPullDownRefresh();
    await settle();
    expect(page.instance.data.entries.map((e: { id: string }) => e.id)).toEqual(['3', '2']);
    expect(page.instance.data).toMatchObject({ balance: 1285, cursor: 'c2', done: false });
    expect([cursors, stops]).toEqual([[null, 'c2', null], 1]);
  });

  it('cart: lines changed elsewhere (stock sold out) show after a pull', async () => {
    const line = { skuId: 's1', productId: 'p1', title: '羊毛围巾', skuName: '燕麦色', imageUrl: null, priceFen: 9900, memberPriceFen: 7900, quantity: 1, stock: 5 };
    let cart: Cart = { items: [line] };
    fake.setHandler(routes({ 'GET /api/mp/cart': () => ({ status: 200, body: cart }) }));
    const page = mount(cartId);
    page.instance.onShow();
    await settle();
    expect(page.instance.data.blocked).toBe(false);
    cart = { items: [{ ...line, stock: 0 }] };
    await page.instance.onPullDownRefresh();
    await settle();
    expect(page.instance.data.blocked).toBe(true);
    expect([count('/api/mp/cart'), stops]).toEqual([2, 1]);
  });

  it('addresses: an address added on another device shows after a pull; a failed pull still ends the refresh', async () => {
    const home: Address = { id: 'a1', name: '林雪', phone: '138****6392', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 88 号', isDefault: true };
    let list: Address[] = [home];
    let fail = false;
    fake.setHandler(
      routes({
        'GET /api/mp/addresses': () => (fail ? { status: 503, body: { code: 'unavailable', message: 'Service unavailable' } } : { status: 200, body: list }),
      }),
    );
    const page = mount(addressesId);
    page.instance.onLoad({});
    page.instance.onShow();
    await settle();
    expect(page.instance.data.addresses).toHaveLength(1);
    list = [home, { ...home, id: 'a2', detail: '衡山路 8 号', isDefault: false }];
    await page.instance.onPullDownRefresh();
    await settle();
    expect(page.instance.data.addresses.map((a: { id: string }) => a.id)).toEqual(['a1', 'a2']);
    fail = true;
    await page.instance.onPullDownRefresh();
    await settle();
    expect(page.instance.data.addresses).toHaveLength(2);
    expect(fake.toasts).toEqual(['服务暂时不可用，请稍后再试']);
    expect(stops).toBe(2);
  });
});
