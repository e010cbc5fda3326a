import type { InjectOptions } from 'fastify';
import { storeKit, type StoreKit } from './store-kit';

/** The merchant edits products and their options (SKUs) through the admin API; members see the edits. */
describe('admin product and SKU edits', () => {
  let k: StoreKit;
  let operator: { authorization: string };
  let cs: { authorization: string };
  const inject = (opts: InjectOptions) => k.t.app.inject(opts);
  const staff = async (username: string, role: string) => {
    await inject({ method: 'POST', url: '/api/admin/staff', headers: k.admin, payload: { username, password: `${username}-password`, role } });
    const login = await inject({ method: 'POST', url: '/api/admin/login', payload: { username, password: `${username}-password` } });
    return { authorization: `Bearer ${login.json().token}` };
  };

  beforeAll(async () => {
    k = await storeKit();
    operator = await staff('op-1', 'operator');
    cs = await staff('cs-1', 'customer_service');
  });
  afterAll(async () => k.t.close());

  it('edits a product, adds a SKU and moves stock by a delta; refuses stock below zero with stock_negative and changes nothing', async () => {
    const created = await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { title: '龙井', skus: [{ name: '50g', priceFen: 5800, stock: 3 }] } });
    expect(created.statusCode).toBe(200);
    const p = created.json();
    expect(p).toMatchObject({ title: '龙井', description: '', images: [], active: true, skus: [{ name: '50g', priceFen: 5800, stock: 3, active: true }] });
    const skuId = p.skus[0].id as string;

    const edited = await inject({ method: 'PATCH', url: `/api/admin/products/${p.id}`, headers: operator, payload: { title: '明前龙井', description: '2026 新茶', sort: 5 } });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ id: p.id, title: '明前龙井', description: '2026 新茶', sort: 5, skus: [{ id: skuId, stock: 3 }] });

    const added = await inject({ method: 'POST', url: `/api/admin/products/${p.id}/skus`, headers: k.admin, payload: { name: '100g', priceFen: 9800, stock: 2 } });
    expect(added.statusCode).toBe(200);
    expect(added.json().skus.map((s: { name: string; priceFen: number; stock: number }) => [s.name, s.priceFen, s.stock])).toEqual([
      ['50g', 5800, 3],
      ['100g', 9800, 2],
    ]);

    const more = await inject({ method: 'PATCH', url: `/api/admin/skus/${skuId}`, headers: k.admin, payload: { stockDelta: 7, priceFen: 5600 } });
    expect(more.statusCode).toBe(200);
    expect(more.json().skus.find((s: { id: string }) => s.id === skuId)).toMatchObject({ stock: 10, priceFen: 5600 });
    const less = await inject({ method: 'PATCH', url: `/api/admin/skus/${skuId}`, headers: k.admin, payload: { stockDelta: -4 } });
    expect(less.json().skus.find((s: { id: string }) => s.id === skuId).stock).toBe(6);

    // Below zero: refused with a stable code; the stock and the price stay as they were.
    const negative = await inject({ method: 'PATCH', url: `/api/admin/skus/${skuId}`, headers: k.admin, payload: { stockDelta: -7, priceFen: 1 } });
    expect(negative.statusCode).toBe(400);
    expect(negative.json()).toEqual({ code: 'stock_negative', message: 'Stock cannot go below zero' });
    const after = (await inject({ method: 'GET', url: `/api/admin/products/${p.id}`, headers: k.admin })).json();
    expect(after.skus.find((s: { id: string }) => s.id === skuId)).toMatchObject({ stock: 6, priceFen: 5600 });
    const zero = await inject({ method: 'PATCH', url: `/api/admin/skus/${skuId}`, headers: k.admin, payload: { stockDelta: -6 } });
    expect(zero.json().skus.find((s: { id: string }) => s.id === skuId).stock).toBe(0);

    // The member's store shows the edits: the new title and the option still in stock.
    const m = await k.member('browser');
    const detail = (await inject({ method: 'GET', url: `/api/mp/products/${p.id}`, headers: m.headers })).json();
    expect(detail).toMatchObject({ title: '明前龙井', description: '2026 新茶' });
    expect(detail.skus.map((s: { name: string; stock: number }) => [s.name, s.stock])).toEqual([
      ['50g', 0],
      ['100g', 2],
    ]);
  });

  it('refuses unknown products and SKUs, bad input and customer service', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const noProduct = await inject({ method: 'PATCH', url: `/api/admin/products/${missing}`, headers: k.admin, payload: { title: 'x' } });
    expect([noProduct.statusCode, noProduct.json().code]).toEqual([404, 'product_not_found']);
    const noSku = await inject({ method: 'PATCH', url: `/api/admin/skus/${missing}`, headers: k.admin, payload: { stockDelta: -1 } });
    expect([noSku.statusCode, noSku.json().code]).toEqual([404, 'sku_not_found']);
    const p = (await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { title: '白茶', skus: [{ name: '饼', priceFen: 12000, stock: 1 }] } })).json();
    const badStock = await inject({ method: 'POST', url: `/api/admin/products/${p.id}/skus`, headers: k.admin, payload: { name: '散', priceFen: 100, stock: -1 } });
    expect([badStock.statusCode, badStock.json().code]).toEqual([400, 'invalid_request']);
    const denied = await inject({ method: 'PATCH', url: `/api/admin/skus/${p.skus[0].id}`, headers: cs, payload: { stockDelta: 5 } });
    expect(denied.statusCode).toBe(403);
    expect((await inject({ method: 'GET', url: `/api/admin/products/${p.id}`, headers: k.admin })).json().skus[0].stock).toBe(1);
  });
});
