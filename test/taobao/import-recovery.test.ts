import { buildTestApp, type TestApp } from '../helpers/app';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { ordersFile } from './taobao-files';

/**
 * A worker killed mid-import leaves its record `running` at the last percentage it wrote (its transaction, and
 * so every order of it, is gone with it). The next start finds it and resumes or fails it.
 */
describe('Taobao import interrupted by a stop', () => {
  let database: TestDatabase;
  let t: TestApp | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
  });

  const login = async (app: TestApp) => app.ownerAuth();

  it('queues an interrupted upload again on start and finishes it; fails an interrupted CLI import with the reason', async () => {
    const first = await buildTestApp({}, undefined, { database });
    const s = first.app.services.taobaoImport;
    const upload = ordersFile([{ orderNo: '4500000000000000001' }, { orderNo: '4500000000000000002' }], 'utf8');
    const uploadId = await s.create({}, { source: 'upload', channelKind: 'taobao', ordersFile: upload, fileNames: { orders: 'ExportOrderList.csv' } });
    const cliId = await s.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: ordersFile([{ orderNo: '4500000000000000003' }], 'utf8') });
    // What a worker killed at 64 % leaves: the record running, its progress, none of its orders.
    await first.app.infra.db.dataSource.query(
      "UPDATE taobao_import SET status = 'running', phase = 'reading_orders', bytes_read = bytes_total * 64 / 100, started_at = now() WHERE id = ANY($1::uuid[])",
      [[uploadId, cliId]],
    );
    await first.app.close();

    t = await buildTestApp({}, undefined, { database });
    const auth = await login(t);
    const view = async (id: string) => (await t!.app.inject({ method: 'GET', url: `/api/admin/imports/${id}`, headers: auth })).json();
    let resumed = await view(uploadId);
    for (let i = 0; i < 150 && resumed.status !== 'succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      resumed = await view(uploadId);
    }
    expect(resumed).toMatchObject({ status: 'succeeded', phase: 'done', progress: { percent: 100 }, summary: { read: 2, inserted: 2 }, error: null });
    const failed = await view(cliId);
    expect(failed).toMatchObject({ status: 'failed', phase: 'failed', error: 'Interrupted: the process running this import stopped and kept nothing of it; import the files again' });
    expect(failed.finishedAt).toEqual(expect.any(String));
    const orders = await t.app.infra.db.dataSource.query("SELECT order_no FROM sales_order WHERE order_no LIKE '45000000000000000%' ORDER BY order_no");
    expect(orders.map((o: { order_no: string }) => o.order_no)).toEqual(['4500000000000000001', '4500000000000000002']);
  });

  it('leaves alone an import whose worker is alive (it holds the import lock), and a late progress write cannot repaint a finished one', async () => {
    const app = t!.app;
    const s = app.services.taobaoImport;
    const id = await s.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: ordersFile([{ orderNo: '4600000000000000001' }], 'utf8') });
    await app.infra.db.dataSource.query("UPDATE taobao_import SET status = 'running', phase = 'reading_orders' WHERE id = $1", [id]);
    // Another process runs it: its lock is held (on PostgreSQL a session of its own; embedded, one process owns the data).
    const held = await app.infra.db.exclusively(`snowball:taobao-import:${id}`, async () => {
      if (process.env.DATABASE_URL) expect(await s.recoverInterrupted({})).toEqual([]);
      return (await app.infra.db.dataSource.query('SELECT status FROM taobao_import WHERE id = $1', [id]))[0].status;
    });
    if (process.env.DATABASE_URL) expect(held).toBe('running');
    const summary = await s.run({}, id);
    expect(summary).toMatchObject({ read: 1, inserted: 1 });
    // A progress write of the run that lands after its end (it waited for a busy connection) leaves a finished record.
    await app.infra.db.dataSource.query("UPDATE taobao_import SET phase = 'reading_orders', bytes_read = 1 WHERE id = $1", [id]);
    const auth = await login(t!);
    const view = (await app.inject({ method: 'GET', url: `/api/admin/imports/${id}`, headers: auth })).json();
    expect(view).toMatchObject({ status: 'succeeded', phase: 'done', progress: { percent: 100 } });
  });
});
