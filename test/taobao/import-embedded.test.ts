import { buildTestApp, type TestApp } from '../helpers/app';
import { multipart } from '../helpers/multipart';
import { ORDER_HEADER, orderLine, writeCsv } from './taobao-files';

/**
 * The embedded database runs one transaction at a time for all connections: an import must not hold one for its
 * whole length, or every other request waits for it. Requests answered while it runs see it advance, and see none
 * of its orders until it publishes them.
 */
const embedded = !process.env.DATABASE_URL;

(embedded ? describe : describe.skip)('Taobao import beside other requests (embedded)', () => {
  let t: TestApp;
  let auth: { authorization: string };

  beforeAll(async () => {
    t = await buildTestApp();
    auth = await t.ownerAuth();
  });
  afterAll(async () => t.close());

  it('answers other requests while it reads the report, shows its progress, and no order of it before publishing', async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => orderLine({ orderNo: String(4800000000000000000n + BigInt(i)), nick: `e**${i % 50}` }));
    const file = writeCsv('ExportOrderList.csv', [ORDER_HEADER.join(','), ...rows], 'utf8');
    const body = multipart({ channelKind: 'taobao' }, { orders: file });
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/imports', headers: { ...auth, ...body.headers }, payload: body.payload });
    expect(res.statusCode).toBe(202);
    const id = res.json().id as string;
    const seen: Array<{ phase: string; percent: number; visible: number }> = [];
    for (;;) {
      // Counted first: when the record read after it still says reading, the count was taken before publishing.
      const [n] = await t.app.infra.db.dataSource.query("SELECT count(*)::int AS n FROM sales_order WHERE order_no LIKE '48000000000000%'");
      const view = (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}`, headers: auth })).json();
      if (view.status === 'succeeded' || view.status === 'failed') {
        expect(view).toMatchObject({ status: 'succeeded', summary: { read: 12_000, inserted: 12_000 } });
        break;
      }
      if (view.status === 'running' && view.phase === 'reading_orders') {
        // Another module's request, answered meanwhile; the import's orders are not there yet.
        const members = await t.app.inject({ method: 'GET', url: '/api/admin/members?limit=1', headers: auth });
        expect(members.statusCode).toBe(200);
        seen.push({ phase: view.phase, percent: view.progress.percent, visible: n.n });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const midway = seen.filter((s) => s.percent > 0 && s.percent < 100);
    expect(midway.length).toBeGreaterThan(0);
    expect(new Set(seen.map((s) => s.visible))).toEqual(new Set([0]));
    const [all] = await t.app.infra.db.dataSource.query("SELECT count(*)::int AS n FROM sales_order WHERE order_no LIKE '48000000000000%'");
    expect(all.n).toBe(12_000);
  });
});
