import { CANCEL_FLOW } from '../../server/modules/store/orders.service';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/wait';
import { storeKit, type StoreKit } from './store-kit';

/**
 * The member's cancel is a flow: close at WeChat, then cancel here. The app stops right after the close (a crash
 * thrown by the runner's test hook), and a new app on the same database finishes the cancel: stock and points come
 * back once, the order is not left half cancelled.
 */
class Crash extends Error {}

let database: TestDatabase;
let k: StoreKit;
beforeAll(async () => {
  database = await createTestDatabase();
  k = await storeKit({}, { database });
});
afterAll(async () => {
  await k.t.close();
  await database.drop();
});

const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);

it('a crash between closing at WeChat and cancelling: the next app cancels, giving stock and points back once', async () => {
  const product = await k.t.app.inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { title: '红茶', skus: [{ name: '罐', priceFen: 8000, stock: 5 }] } });
  const skuId = product.json().skus[0].id as string;
  const m = await k.member('cancel-crash');
  await k.grant(m.memberId, 3000);
  const addr = await k.t.app.inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: { name: '孙八', phone: '13600004444', province: '广东省', city: '广州市', district: '天河区', detail: '体育西路 9 号' } });
  const placed = await k.t.app.inject({ method: 'POST', url: '/api/mp/orders', headers: m.headers, payload: { items: [{ skuId, quantity: 2 }], addressId: addr.json().id, pointsToUse: 1000 } });
  const order = placed.json().order as { id: string; orderNo: string };
  expect((await sql('SELECT stock FROM product_sku WHERE id = $1', [skuId]))[0].stock).toBe(3);
  expect(await k.balance(m.memberId)).toBe(2000);

  let crashed = false;
  k.t.app.services.flows.hooks.afterStep = (run, i) => {
    if (run.flow === CANCEL_FLOW && i === 0 && !crashed) {
      crashed = true;
      throw new Crash('stopped after the close');
    }
  };
  const cancel = await k.t.app.inject({ method: 'POST', url: `/api/mp/orders/${order.id}/cancel`, headers: m.headers });
  expect([cancel.statusCode, cancel.json().code]).toEqual([503, 'payment_unavailable']);
  expect(crashed).toBe(true);
  expect(k.sandboxOrder(order.orderNo).trade_state).toBe('CLOSED');
  expect((await sql('SELECT status FROM store_order WHERE id = $1', [order.id]))[0].status).toBe('pending_payment');
  await k.t.close();

  k = await storeKit({}, { database });
  // The last step cancels the order; its record finishes the run (the step commits just before it is recorded).
  await waitFor('the cancel to finish in the new app', async () => (await sql('SELECT status FROM store_order WHERE id = $1', [order.id]))[0].status === 'cancelled');
  await waitFor('the cancel flow to be recorded', async () => (await sql('SELECT status FROM flow_run WHERE flow = $1', [CANCEL_FLOW]))[0].status !== 'running');
  const [run] = await sql('SELECT status, next_step FROM flow_run WHERE flow = $1', [CANCEL_FLOW]);
  expect(run).toEqual({ status: 'done', next_step: 2 });
  expect((await sql('SELECT stock FROM product_sku WHERE id = $1', [skuId]))[0].stock).toBe(5);
  expect(await k.balance(m.memberId)).toBe(3000);
  expect(await k.entries(`order:${order.id}:points-return`)).toBe(1);
  expect((await k.t.app.inject({ method: 'GET', url: `/api/mp/orders/${order.id}`, headers: m.headers })).json().status).toBe('cancelled');
});
