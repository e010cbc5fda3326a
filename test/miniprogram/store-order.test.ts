/**
 * @jest-environment jsdom
 */
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes } from './helpers/fake-wx';
import type { ProductSummary } from '../../miniprogram/src/models/api-types';

/** The store page keeps the server's order (the merchant's sort, test/store/catalog-sort.test.ts): no re-sorting. */
const storeId = loadPage('pages/store/index');

it('lists the products in the order the server gives, whatever their titles or prices', async () => {
  const fake = createFakeWx();
  installFakeWx(fake);
  const p = (n: number, title: string, priceFen: number): ProductSummary => ({
    id: `5f0c2a1e-7b4d-4c8e-9a55-2d1f6b7e20${n}0`, title, imageUrl: null, priceFen, memberPriceFen: priceFen, stock: 3,
  });
  const products = [p(1, '丙 茶具', 5000), p(2, '甲 龙井', 20000), p(3, '乙 茶饼', 100)];
  fake.setHandler(routes({ 'GET /api/mp/products': () => ({ status: 200, body: products }), 'GET /api/mp/cart': () => ({ status: 200, body: { items: [] } }) }));
  const page = mount(storeId);
  page.instance.onShow();
  await settle();
  expect(page.querySelectorAll('.product-title').map((n) => n.dom?.textContent)).toEqual(['丙 茶具', '甲 龙井', '乙 茶饼']);
});
