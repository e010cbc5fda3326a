/**
 * @jest-environment jsdom
 */
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes, sampleMember, type FakeWx } from './helpers/fake-wx';
import type { ProductSummary } from '../../miniprogram/src/models/api-types';

/** The home page's first screen: a banner to the shop and the first products in stock, in the merchant's order. */
const homeId = loadPage('pages/home/index');

const product = (n: number, over: Partial<ProductSummary> = {}): ProductSummary => ({
  id: `5f0c2a1e-7b4d-4c8e-9a55-2d1f6b7e10${String(n).padStart(2, '0')}`,
  title: `商品 ${n}`,
  imageUrl: `https://img.example.test/p${n}.jpg`,
  priceFen: 10000 + n * 100,
  memberPriceFen: 9000 + n * 100,
  stock: 10,
  ...over,
});

let fake: FakeWx;
beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
});

const texts = (page: ReturnType<typeof mount>, selector: string) => page.querySelectorAll(selector).map((n) => n.dom?.textContent);

describe('home page, first screen', () => {
  it('shows the banner and the first four products in stock, in the server’s order, with thumbnails and member prices', async () => {
    const products = [product(1), product(2, { stock: 0 }), product(3), product(4, { imageUrl: null }), product(5), product(6)];
    fake.setHandler(routes({ 'GET /api/mp/me': () => ({ status: 200, body: sampleMember }), 'GET /api/mp/products': () => ({ status: 200, body: products }) }));
    const page = mount(homeId);
    page.instance.onShow();
    await settle();
    expect(page.querySelector('.banner-title')?.dom?.textContent).toBe('会员专享价');
    expect(texts(page, '.featured-title')).toEqual(['商品 1', '商品 3', '商品 4', '商品 5']);
    expect(texts(page, '.featured-item .price')).toEqual(['¥91.00', '¥93.00', '¥94.00', '¥95.00']);
    expect(page.querySelectorAll('.featured-image')).toHaveLength(4);
    expect(page.querySelectorAll('.featured-image.placeholder')).toHaveLength(1);
    expect(page.instance.data.featured.map((p: { imageUrl: string }) => p.imageUrl)).toEqual([
      'https://img.example.test/p1.jpg', 'https://img.example.test/p3.jpg', '', 'https://img.example.test/p5.jpg',
    ]);

    page.querySelectorAll('.featured-item')[1]?.dispatchEvent('tap');
    page.querySelector('.banner')?.dispatchEvent('tap');
    await settle();
    expect(fake.navigations).toEqual([`/packages/store/product/index?id=${product(3).id}`, '/pages/store/index']);
    expect(page.dom?.textContent).toContain('金卡会员');
  });

  it('leaves the section out when nothing is on sale, or the shop cannot be reached, without a second error', async () => {
    fake.setHandler(routes({ 'GET /api/mp/me': () => ({ status: 200, body: sampleMember }), 'GET /api/mp/products': () => ({ status: 200, body: [product(1, { stock: 0 })] }) }));
    const empty = mount(homeId);
    empty.instance.onShow();
    await settle();
    expect(empty.querySelector('.featured')).toBeUndefined();
    expect(empty.querySelector('.banner')).toBeDefined();

    fake.setHandler(routes({ 'GET /api/mp/me': () => ({ status: 200, body: sampleMember }), 'GET /api/mp/products': () => ({ status: 503, body: { code: 'unavailable', message: 'Service unavailable' } }) }));
    const down = mount(homeId);
    down.instance.onShow();
    await settle();
    expect(down.querySelector('.featured')).toBeUndefined();
    expect(down.dom?.textContent).toContain('金卡会员');
    expect(fake.toasts).toEqual([]);
  });
});
