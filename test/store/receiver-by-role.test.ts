import type { InjectOptions } from 'fastify';
import { storeKit, type StoreKit } from './store-kit';

/**
 * The receiver of a store order or a mall gift, as each staff role sees it in /api/admin: in full for the roles that
 * ship goods (owner, operator), masked for customer service (region, first character of the name, 139****5678).
 */
let k: StoreKit;
const inject = (o: InjectOptions) => k.t.app.inject(o);
const auth: Record<'owner' | 'operator' | 'customer_service', { authorization: string }> = {} as never;
let orderId: string;
let redemptionId: string;

const RECEIVER = { name: '欧阳梅梅', phone: '13912345678', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 2 号 3 室' };
const MASKED = { name: '欧***', phone: '139****5678', province: '上海市', city: '上海市', district: '徐汇区', detail: '***' };

beforeAll(async () => {
  k = await storeKit();
  auth.owner = k.admin;
  for (const role of ['operator', 'customer_service'] as const) {
    const username = `${role.replace('_', '-')}-1`;
    const created = await inject({ method: 'POST', url: '/api/admin/staff', headers: k.admin, payload: { username, password: 'staff-password-1', role } });
    expect(created.statusCode).toBe(201);
    const login = await inject({ method: 'POST', url: '/api/admin/login', payload: { username, password: 'staff-password-1' } });
    auth[role] = { authorization: `Bearer ${login.json().token}` };
  }
  const m = await k.member('receiver');
  await k.grant(m.memberId, 100);
  const address = await inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: RECEIVER });
  const product = await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { title: '龙井茶', skus: [{ name: '250g', priceFen: 12_000, stock: 5 }] } });
  const order = await inject({ method: 'POST', url: '/api/mp/orders', headers: m.headers, payload: { addressId: address.json().id, items: [{ skuId: product.json().skus[0].id, quantity: 1 }] } });
  expect(order.statusCode).toBe(200);
  orderId = order.json().order.id;
  const gift = await inject({ method: 'POST', url: '/api/admin/mall/items', headers: k.admin, payload: { kind: 'gift', name: '保温杯', pointsCost: 50, stock: 2 } });
  const redemption = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: m.headers, payload: { itemId: gift.json().id, addressId: address.json().id } });
  expect(redemption.statusCode).toBe(200);
  redemptionId = redemption.json().id;
});
afterAll(async () => k.t.close());

const seenBy = async (role: keyof typeof auth) => {
  const list = await inject({ url: '/api/admin/orders', headers: auth[role] });
  const detail = await inject({ url: `/api/admin/orders/${orderId}`, headers: auth[role] });
  const gifts = await inject({ url: '/api/admin/mall/redemptions', headers: auth[role] });
  for (const res of [list, detail, gifts]) expect(res.statusCode).toBe(200);
  const strip = ({ id: _id, isDefault: _d, ...rest }: Record<string, unknown>) => rest;
  return {
    list: strip(list.json().find((o: { id: string }) => o.id === orderId).address),
    detail: strip(detail.json().address),
    gift: strip(gifts.json().find((r: { id: string }) => r.id === redemptionId).address),
  };
};

it.each(['owner', 'operator'] as const)('%s ships goods: sees the receiver in full in orders, the order and gift redemptions', async (role) => {
  expect(await seenBy(role)).toEqual({ list: RECEIVER, detail: RECEIVER, gift: RECEIVER });
});

it('customer service sees the region, a masked name and phone and no street address, everywhere', async () => {
  const seen = await seenBy('customer_service');
  expect(seen).toEqual({ list: MASKED, detail: MASKED, gift: MASKED });
  const everything = JSON.stringify(
    await Promise.all([`/api/admin/orders`, `/api/admin/orders/${orderId}`, '/api/admin/mall/redemptions'].map(async (url) => (await inject({ url, headers: auth.customer_service })).body)),
  );
  expect(everything).not.toContain('12345678');
  expect(everything).not.toContain('漕溪北路');
  expect(everything).not.toContain('梅梅');
});
