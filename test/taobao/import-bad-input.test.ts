import { buildTestApp, type TestApp } from '../helpers/app';
import { multipart } from '../helpers/multipart';
import { ITEM_HEADER, itemLine, orderLine, ordersFile, writeCsv } from './taobao-files';

/** Rows PostgreSQL could not store, or that were not read whole, are rejected one by one with their line. */
describe('Taobao import: bytes a report should not hold', () => {
  let t: TestApp;
  let auth: { authorization: string };
  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);

  beforeAll(async () => {
    t = await buildTestApp();
    auth = await t.ownerAuth();
  });
  afterAll(async () => t.close());

  async function upload(fields: Record<string, string>, files: Record<string, string>) {
    const body = multipart(fields, files);
    return t.app.inject({ method: 'POST', url: '/api/admin/imports', headers: { ...auth, ...body.headers }, payload: body.payload });
  }

  async function finished(id: string) {
    for (let i = 0; i < 150; i++) {
      const body = (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}`, headers: auth })).json();
      if (body.status === 'succeeded' || body.status === 'failed') return body;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('import did not finish');
  }

  const rejectsOf = async (id: string) => (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}/rejects`, headers: auth })).json();

  it('rejects the row with a NUL cell, with its line, and imports the others (orders and items)', async () => {
    const orders = ordersFile(
      [{ orderNo: '4100000000000000001' }, { orderNo: '4100000000000000002', receiver: '张\u0000三' }, { orderNo: '4100000000000000003', message: '\u0000' }, { orderNo: '4100000000000000004' }],
      'utf8',
    );
    const items = writeCsv('items.csv', [ITEM_HEADER.join(','), itemLine('4100000000000000001', '保温杯', '59.00', '1'), itemLine('4100000000000000004', '杯\u0000套', '9.00', '1')], 'utf8');
    const res = await upload({ channelKind: 'taobao', storeName: 'NUL店' }, { orders, items });
    expect(res.statusCode).toBe(202);
    const done = await finished(res.json().id);
    expect(done.status).toBe('succeeded');
    expect(done.summary).toMatchObject({ read: 4, inserted: 2, rejected: 2, items: { read: 2, attached: 1, rejected: 1 } });
    expect(await rejectsOf(done.id)).toEqual([
      { file: 'orders', line: 3, reason: 'a cell holds a NUL character (U+0000)', excerpt: expect.not.stringContaining('\u0000') },
      { file: 'orders', line: 4, reason: 'a cell holds a NUL character (U+0000)', excerpt: expect.any(String) },
      { file: 'items', line: 3, reason: 'a cell holds a NUL character (U+0000)', excerpt: expect.any(String) },
    ]);
    const rows = await q("SELECT order_no FROM sales_order WHERE order_no LIKE '41000000000000000%' ORDER BY order_no");
    expect(rows.map((r: { order_no: string }) => r.order_no)).toEqual(['4100000000000000001', '4100000000000000004']);
  });

  it('rejects a row whose quote is never closed, with its line, instead of storing it half-read', async () => {
    const cut = orderLine({ orderNo: '4200000000000000003', message: '送到门口' }).replace('送到门口', '"送到门口,谢谢');
    const orders = ordersFile([{ orderNo: '4200000000000000001' }, { orderNo: '4200000000000000002' }], 'gbk', [cut]);
    const res = await upload({ channelKind: 'taobao' }, { orders });
    const done = await finished(res.json().id);
    expect(done.status).toBe('succeeded');
    expect(done.summary).toMatchObject({ read: 3, inserted: 2, rejected: 1 });
    expect(await rejectsOf(done.id)).toEqual([
      { file: 'orders', line: 4, reason: 'a quoted cell is never closed: the row runs to the end of the file', excerpt: expect.stringContaining('4200000000000000003') },
    ]);
    const [n] = await q("SELECT count(*)::int AS n FROM sales_order WHERE order_no = '4200000000000000003'");
    expect(n.n).toBe(0);
  });

  it('refuses a NUL in an upload field or file name with 400 invalid_request and keeps no import', async () => {
    const orders = ordersFile([{ orderNo: '4300000000000000001' }], 'utf8');
    const before = await q('SELECT count(*)::int AS n FROM taobao_import');
    const store = await upload({ channelKind: 'taobao', storeName: '雪球\u0000店' }, { orders });
    expect([store.statusCode, store.json().code]).toEqual([400, 'invalid_request']);
    // A file name with a NUL (no file on disk can have one: the byte is put into the request itself).
    const body = multipart({ channelKind: 'taobao' }, { orders: writeCsv('ordersXNULX.csv', [orderLine({ orderNo: '4300000000000000002' })], 'utf8') });
    const at = body.payload.indexOf('XNULX');
    const payload = Buffer.concat([body.payload.subarray(0, at), Buffer.from([0]), body.payload.subarray(at + 5)]);
    const file = await t.app.inject({ method: 'POST', url: '/api/admin/imports', headers: { ...auth, ...body.headers }, payload });
    expect([file.statusCode, file.json().code]).toEqual([400, 'invalid_request']);
    expect(await q('SELECT count(*)::int AS n FROM taobao_import')).toEqual(before);
  });

  it('keeps the database’s own error text out of the import record the API shows', async () => {
    await q(`CREATE FUNCTION test_refuse_order() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.order_no = '4400000000000000001' THEN RAISE EXCEPTION 'relation secret_internal_table is corrupt'; END IF; RETURN NEW; END $$`);
    await q('CREATE TRIGGER test_refuse_order BEFORE INSERT ON sales_order FOR EACH ROW EXECUTE FUNCTION test_refuse_order()');
    try {
      const s = t.app.services.taobaoImport;
      const id = await s.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: ordersFile([{ orderNo: '4400000000000000001' }], 'utf8') });
      await expect(s.run({}, id)).rejects.toThrow(/secret_internal_table/);
      const view = (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}`, headers: auth })).json();
      expect(view).toMatchObject({ status: 'failed', error: 'Interrupted by a server or database error; retried from the start' });
      expect(JSON.stringify(view)).not.toContain('secret_internal_table');
    } finally {
      await q('DROP TRIGGER test_refuse_order ON sales_order');
      await q('DROP FUNCTION test_refuse_order()');
    }
  });
});
