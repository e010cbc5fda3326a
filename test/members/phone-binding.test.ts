import { createHmac } from 'node:crypto';
import { buildTestApp, type TestApp } from '../helpers/app';
import { multipart } from '../helpers/multipart';
import { waitFor } from '../helpers/wait';
import { ordersFile } from '../taobao/taobao-files';

/**
 * Phones are kept only as a keyed hash under MEMBER_DATA_KEY (and shown masked): an export with full receiver phones
 * (an ERP export with decryption rights) uploaded through the admin API, then the member's verified phone attached.
 */
describe('phone binding and keyed hashing', () => {
  const KEY = 'a-member-data-key-for-tests';
  const PHONE = '13812345678';
  const OTHER_PHONE = '13987654321';
  const hmac = (key: string, phone: string) => createHmac('sha256', key).update(phone).digest('hex');
  let t: TestApp;
  let auth: { authorization: string };
  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);
  const member = async (openid: string) => (await t.app.services.members.findOrCreateByOpenid({}, { app: 'mp', openid })).memberId;

  beforeAll(async () => {
    t = await buildTestApp({ MEMBER_DATA_KEY: KEY });
    auth = await t.ownerAuth();
    const file = ordersFile([
      { orderNo: '2036455525271598001', nick: 'p**1', phone: PHONE, total: '88.00', status: '交易成功' },
      { orderNo: '2036455525271598002', nick: 'p**1', phone: `+86 138-1234-5678`, total: '12.00', status: '交易成功' },
      { orderNo: '2036455525271598003', nick: 'q**2', phone: OTHER_PHONE, total: '30.00', status: '交易成功' },
      { orderNo: '2036455525271598004', nick: 'm**3', phone: "'138****6392", total: '20.00', status: '交易成功' },
    ]);
    const body = multipart({ channelKind: 'taobao' }, { orders: file });
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/imports', headers: { ...auth, ...body.headers }, payload: body.payload });
    expect(res.statusCode).toBe(202);
    const done = await waitFor('the import', async () => {
      const s = (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${res.json().id}`, headers: auth })).json();
      return (s.status === 'succeeded' || s.status === 'failed') && s;
    }, 30_000);
    expect(done).toMatchObject({ status: 'succeeded', summary: { inserted: 4, rejected: 0 } });
  });
  afterAll(async () => t.close());

  it('stores a full phone only as its hash under MEMBER_DATA_KEY, normalised, and shows it masked', async () => {
    const rows = await q('SELECT order_no, receiver_phone, phone_last4, phone_hash FROM sales_order ORDER BY order_no');
    expect(rows).toEqual([
      { order_no: '2036455525271598001', receiver_phone: '138****5678', phone_last4: '5678', phone_hash: hmac(KEY, PHONE) },
      { order_no: '2036455525271598002', receiver_phone: '138****5678', phone_last4: '5678', phone_hash: hmac(KEY, PHONE) },
      { order_no: '2036455525271598003', receiver_phone: '139****4321', phone_last4: '4321', phone_hash: hmac(KEY, OTHER_PHONE) },
      { order_no: '2036455525271598004', receiver_phone: '138****6392', phone_last4: '6392', phone_hash: null },
    ]);
    // Keyed: not the plain SHA-256 of the number, nor its hash under the development key.
    expect(hmac(KEY, PHONE)).not.toBe(hmac('snowball-development-member-key', PHONE));
    const [{ found }] = await q("SELECT count(*)::int AS found FROM sales_order WHERE row_to_json(sales_order.*)::text LIKE '%' || $1 || '%'", [PHONE]);
    expect(found).toBe(0);
  });

  it('attaching a verified phone links the orders carrying it, once; another member cannot take it; bad numbers are refused', async () => {
    const binding = t.app.services.memberBinding;
    const m = await member('o-phone-member-1');
    expect(await binding.attachPhone({}, m, '+86 138 1234 5678')).toEqual({ ordersLinked: 2 });
    expect(await q("SELECT value, display FROM member_identity WHERE member_id = $1 AND kind = 'phone'", [m])).toEqual([{ value: hmac(KEY, PHONE), display: '138****5678' }]);
    expect(await q('SELECT order_no FROM sales_order WHERE member_id = $1 ORDER BY order_no', [m])).toEqual([{ order_no: '2036455525271598001' }, { order_no: '2036455525271598002' }]);
    // Again: nothing more to link, no error. The orders' points followed the link.
    expect(await binding.attachPhone({}, m, PHONE)).toEqual({ ordersLinked: 0 });
    expect(await t.app.services.points.balance({}, m)).toBe(100);

    const other = await member('o-phone-member-2');
    await expect(binding.attachPhone({}, other, PHONE)).rejects.toMatchObject({ code: 'phone_bound_to_other' });
    await expect(binding.attachPhone({}, other, '12345')).rejects.toMatchObject({ code: 'invalid_phone' });
    expect(await q("SELECT count(*)::int AS n FROM member_identity WHERE member_id = $1 AND kind = 'phone'", [other])).toEqual([{ n: 0 }]);
    // The admin's view of the member shows the phone masked, never the number or its hash.
    const view = await t.app.inject({ method: 'GET', url: `/api/admin/members/${m}`, headers: auth });
    expect(view.statusCode).toBe(200);
    expect(view.body).not.toContain(PHONE);
    expect(view.body).not.toContain(hmac(KEY, PHONE));
    expect(view.body).toContain('138****5678');
  });
});
