import type { InjectOptions } from 'fastify';
import { storeKit, type StoreKit } from './store-kit';

/** The mini-program's store lists products in the merchant's order: `sort` high to low, then the newest first. */
describe('product order in the store', () => {
  let k: StoreKit;
  const inject = (opts: InjectOptions) => k.t.app.inject(opts);
  beforeAll(async () => {
    k = await storeKit();
  });
  afterAll(async () => k.t.close());

  it('follows sort, the newest first among equals, and a new sort at once', async () => {
    const ids: Record<string, string> = {};
    for (const [title, sort] of [['甲', 0], ['乙', 10], ['丙', 5], ['丁', 10]] as const) {
      const r = await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { title, sort, skus: [{ name: '默认', priceFen: 1000, stock: 1 }] } });
      expect(r.statusCode).toBe(200);
      ids[title] = r.json().id;
      // created_at apart, so that "newest first" among equal sorts is a real order.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const m = await k.member('看店');
    const titles = async () => ((await inject({ method: 'GET', url: '/api/mp/products', headers: m.headers })).json() as Array<{ title: string }>).map((p) => p.title);
    expect(await titles()).toEqual(['丁', '乙', '丙', '甲']);

    expect((await inject({ method: 'PATCH', url: `/api/admin/products/${ids['甲']}`, headers: k.admin, payload: { sort: 20 } })).statusCode).toBe(200);
    expect((await inject({ method: 'PATCH', url: `/api/admin/products/${ids['丁']}`, headers: k.admin, payload: { sort: -1 } })).statusCode).toBe(200);
    expect(await titles()).toEqual(['甲', '乙', '丙', '丁']);
  });
});
