import type { InjectOptions } from 'fastify';
import { PRIVACY_NOTICE_VERSION } from '../../server/modules/mp-session/mp-session.service';
import { storeKit, type StoreKit } from '../store/store-kit';

/**
 * Input PostgreSQL cannot store, refused at the boundary: a NUL character in any string and integers beyond the
 * columns they land in are a 400 `invalid_request`, never a 500 with the database's complaint.
 */
describe('input the database cannot hold', () => {
  let k: StoreKit;
  beforeAll(async () => {
    k = await storeKit();
  });
  afterAll(async () => k.t.close());

  const inject = (o: InjectOptions | string) => k.t.app.inject(o);

  function expectRefused(res: { statusCode: number; json(): any }, path: string) {
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('invalid_request');
    expect(body.details).toEqual([{ path, message: 'must not contain U+0000' }]);
    expect(body.message).not.toMatch(/byte sequence|0x00|UTF8/i);
  }

  it('refuses a NUL in a login name, and the owner still logs in', async () => {
    const res = await inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'owner\u0000', password: 'x-x-x-x-x-x' } });
    expectRefused(res, '/username');
    const ok = await inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'owner', password: 'owner-password-1' } });
    expect(ok.statusCode).toBe(200);
  });

  it('refuses a NUL in member filters (querystring)', async () => {
    expectRefused(await inject({ method: 'GET', url: '/api/admin/members?tag=vip%00x', headers: k.admin }), '/tag');
    expectRefused(await inject({ method: 'GET', url: '/api/admin/members?lifecycle=active&tier=gold%00', headers: k.admin }), '/tier');
  });

  it('refuses a NUL in a keyword reply and stores nothing', async () => {
    const res = await inject({ method: 'POST', url: '/api/admin/keyword-replies', headers: k.admin, payload: { keyword: '发货', reply: '三天内\u0000发货' } });
    expectRefused(res, '/reply');
    const list = await inject({ method: 'GET', url: '/api/admin/keyword-replies', headers: k.admin });
    expect(list.json().filter((r: { keyword: string }) => r.keyword === '发货')).toEqual([]);
  });

  it('refuses a NUL in a shipping address', async () => {
    const m = await k.member('nul-address');
    const accepted = await inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: m.headers, payload: { version: PRIVACY_NOTICE_VERSION } });
    expect(accepted.statusCode).toBeLessThan(300);
    const address = { name: '李雷', phone: '13812346392', province: '浙江省', city: '杭州市', district: '西湖区', detail: '文三路\u00001 号' };
    expectRefused(await inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: address }), '/detail');
    expectRefused(await inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: { ...address, detail: '文三路 1 号', name: '\u0000' } }), '/name');
    const list = await inject({ method: 'GET', url: '/api/mp/addresses', headers: m.headers });
    expect(list.json()).toEqual([]);
  });

  it('refuses an integer beyond its column (sort: 3000000000) with 400, and takes one within it', async () => {
    const product = { title: '保温杯', skus: [{ name: '白色', priceFen: 9900, stock: 5 }] };
    const big = await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { ...product, sort: 3_000_000_000 } });
    expect(big.statusCode).toBe(400);
    expect(big.json().code).toBe('invalid_request');
    expect(big.json().details).toEqual([expect.objectContaining({ path: '/sort' })]);
    const ok = await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { ...product, sort: 7 } });
    expect([ok.statusCode, ok.json().sort]).toEqual([200, 7]);
    const tier = await inject({
      method: 'PUT',
      url: '/api/admin/tiers',
      headers: k.admin,
      payload: [{ code: 'gold', name: '金卡', rank: 1, minSpend12mFen: 0, minOrders12m: 3_000_000_000, perks: { freeShipping: false, discountPercent: 0, pointsMultiplier: 1, birthdayGift: false } }],
    });
    expect([tier.statusCode, tier.json().code]).toEqual([400, 'invalid_request']);
  });

  it('declares a bound within int4 for every integer a client sends to /api (bigint columns: within 10^12)', async () => {
    const doc = (await inject('/docs/json')).json();
    const bigintFields = new Set(['minSpendFen', 'maxSpendFen', 'minSpend12mFen', 'dailyBudgetFen']);
    const unbounded: string[] = [];
    const visit = (schema: any, where: string, name: string) => {
      if (!schema || typeof schema !== 'object') return;
      if (schema.type === 'integer') {
        const limit = bigintFields.has(name) ? 1e12 : 2_147_483_647;
        if (!(schema.maximum <= limit) || !(schema.minimum >= -limit)) unbounded.push(`${where} ${name}`);
      }
      for (const [k2, v] of Object.entries(schema.properties ?? {})) visit(v, where, k2);
      if (schema.items) visit(schema.items, where, name);
      for (const key of ['anyOf', 'oneOf', 'allOf']) for (const s of schema[key] ?? []) visit(s, where, name);
    };
    let seen = 0;
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const [method, op] of Object.entries<any>(ops)) {
        for (const p of op.parameters ?? []) {
          seen++;
          visit(p.schema, `${method.toUpperCase()} ${path}`, p.name);
        }
        for (const media of Object.values<any>(op.requestBody?.content ?? {})) {
          seen++;
          visit(media.schema, `${method.toUpperCase()} ${path}`, 'body');
        }
      }
    }
    expect(seen).toBeGreaterThan(20);
    expect(unbounded).toEqual([]);
  });
});
