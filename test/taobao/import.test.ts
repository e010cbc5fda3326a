import fs from 'node:fs';
import { buildTestApp, type TestApp } from '../helpers/app';
import { TaobaoImportService, type ImportSummary } from '../../server/modules/taobao/taobao-import.service';
import { multipart } from '../helpers/multipart';
import { ITEM_HEADER, itemLine, ordersFile, writeCsv } from './taobao-files';

describe('Taobao order import', () => {
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

  async function waitForImport(id: string) {
    const end = Date.now() + 30_000;
    for (;;) {
      const res = await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}`, headers: auth });
      const body = res.json();
      if (body.status === 'succeeded' || body.status === 'failed') return body;
      if (Date.now() > end) throw new Error(`import still ${body.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Runs an import the way the CLI does (no upload, no queue). */
  async function importNow(files: { orders?: string; items?: string }, kind: 'taobao' | 'tmall' = 'taobao', storeName?: string) {
    const s = t.app.services.taobaoImport;
    const id = await s.create({}, { source: 'cli', channelKind: kind, storeName, ordersFile: files.orders, itemsFile: files.items });
    return { id, summary: await s.run({}, id) };
  }

  it('takes a real GBK export through the upload API: formula cells, quoted line breaks, CRLF, 48 columns, broken rows by line', async () => {
    const file = ordersFile(
      [
        { orderNo: '2036455525271594000', nick: 't**5', total: '1,299.90', paid: '1299.9', status: '交易成功', message: '请发顺丰,谢谢\r\n要"礼盒"包装', phone: "'138****6392" },
        { orderNo: '2036455525271594001', nick: '小**雪', total: '59.00', status: '卖家已发货，等待买家确认', refund: '0.00' },
        { orderNo: 'NOT-A-NUMBER', total: '1.00' },
        { orderNo: '2036455525271594003', total: '12.3x' },
        { orderNo: '2036455525271594004', status: '神秘状态' },
        { orderNo: '2036455525271594005', createdAt: '2026-13-45 99:00:00' },
        { orderNo: '2036455525271594006', status: '交易关闭', closeReason: '买家不想买了', paid: '0.00' },
      ],
      'gbk',
    );
    const res = await upload({ channelKind: 'tmall', storeName: '雪球旗舰店' }, { orders: file });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'queued', channelKind: 'tmall', files: { orders: 'ExportOrderList.csv' } });
    const done = await waitForImport(res.json().id);
    expect(done.status).toBe('succeeded');
    expect(done.progress.percent).toBe(100);
    expect(done.summary).toMatchObject({ read: 7, inserted: 3, updated: 0, unchanged: 0, rejected: 4 });

    const list = (await t.app.inject({ method: 'GET', url: '/api/admin/imports', headers: auth })).json();
    expect(list[0]).toMatchObject({ id: done.id, status: 'succeeded', createdBy: 'staff:owner' });
    const rejects = (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${done.id}/rejects`, headers: auth })).json();
    // The first order's message spans two physical lines, so later rows sit one line further down.
    expect(rejects.map((r: { line: number }) => r.line)).toEqual([5, 6, 7, 8]);
    expect(rejects[0].reason).toMatch(/订单编号 "NOT-A-NUMBER"/);
    expect(rejects[1].reason).toMatch(/总金额 "12.3x" is not an amount/);
    expect(rejects[2].reason).toMatch(/unknown 订单状态/);
    expect(rejects[3].reason).toMatch(/订单创建时间/);

    const [o] = await q(
      "SELECT o.*, sales_order_extra(o.extra, o.import_id) AS named, c.kind, c.name FROM sales_order o JOIN sales_channel c ON c.id = o.channel_id WHERE order_no = '2036455525271594000'",
    );
    expect(o).toMatchObject({ kind: 'tmall', name: '雪球旗舰店', state: 'completed', total_fen: '129990', paid_fen: '129990', phone_last4: '6392' });
    expect(o.buyer_message).toBe('请发顺丰,谢谢\r\n要"礼盒"包装');
    expect(o.receiver_phone).toBe('138****6392');
    // Unknown columns: their values in the order, their names once in the import; read back as one object.
    expect(o.named).toMatchObject({ 物流单号: '773012345678901', 支付单号: '20265271594000', 运送方式: '快递', 是否手机订单: '手机订单' });
    expect(Array.isArray(o.extra)).toBe(true);
    expect(new Date(o.ordered_at).toISOString()).toBe('2026-10-01T02:00:00.000Z');
    const [closed] = await q("SELECT state, spend_fen FROM sales_order WHERE order_no = '2036455525271594006'");
    expect(closed).toEqual({ state: 'closed', spend_fen: '0' });
    // The uploaded file is deleted once imported.
    const [row] = await q('SELECT orders_file FROM taobao_import WHERE id = $1', [done.id]);
    expect(fs.existsSync(row.orders_file)).toBe(false);
  });

  it('detects UTF-8 with and without a BOM, and re-importing the same rows changes nothing', async () => {
    const rows = [
      { orderNo: '3000000000000000001', nick: 'a**1', total: '10.00', status: '买家已付款，等待卖家发货' },
      { orderNo: '3000000000000000002', nick: 'b**2', total: '20.00', message: '多行\n留言' },
    ];
    const first = await importNow({ orders: ordersFile(rows, 'utf8-bom') }, 'taobao', 'UTF店');
    expect(first.summary).toMatchObject({ read: 2, inserted: 2, updated: 0, unchanged: 0, rejected: 0 });
    const before = await q("SELECT order_no, source_hash, updated_at, import_id FROM sales_order WHERE order_no LIKE '300000000000000000_' ORDER BY order_no");
    expect(before.map((o: { source_hash: string }) => o.source_hash)).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/), expect.stringMatching(/^[0-9a-f]{32}$/)]);
    const again = await importNow({ orders: ordersFile(rows, 'utf8') }, 'taobao', 'UTF店');
    expect(again.summary).toMatchObject({ read: 2, inserted: 0, updated: 0, unchanged: 2, rejected: 0 });
    // The same rows are passed over: the orders are not written again.
    expect(await q("SELECT order_no, source_hash, updated_at, import_id FROM sales_order WHERE order_no LIKE '300000000000000000_' ORDER BY order_no")).toEqual(before);
    const [m] = await q("SELECT buyer_message, buyer_nick FROM sales_order WHERE order_no = '3000000000000000002'");
    expect(m).toEqual({ buyer_message: '多行\n留言', buyer_nick: 'b**2' });
  });

  it('moves an order forward with a later export, never back with an older one, and counts in-file duplicates', async () => {
    const no = '3100000000000000001';
    await importNow({ orders: ordersFile([{ orderNo: no, status: '卖家已发货，等待买家确认', total: '100.00' }]) }, 'taobao', '前进店');
    const later = await importNow({
      orders: ordersFile([
        { orderNo: no, status: '卖家已发货，等待买家确认', total: '100.00' },
        { orderNo: no, status: '交易成功', total: '100.00', refund: '30.00' },
      ]),
    }, 'taobao', '前进店');
    expect(later.summary).toMatchObject({ read: 2, inserted: 0, updated: 1, duplicates: 1 });
    const [o] = await q('SELECT state, refund_fen, spend_fen FROM sales_order WHERE order_no = $1', [no]);
    expect(o).toEqual({ state: 'completed', refund_fen: '3000', spend_fen: '7000' });
    const older = await importNow({ orders: ordersFile([{ orderNo: no, status: '买家已付款，等待卖家发货', total: '100.00' }]) }, 'taobao', '前进店');
    expect(older.summary).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    const [still] = await q('SELECT state FROM sales_order WHERE order_no = $1', [no]);
    expect(still.state).toBe('completed');
  });

  it('joins the item report by 订单编号 and reports items of unknown orders', async () => {
    const no = '3200000000000000001';
    const orders = ordersFile([{ orderNo: no, total: '150.00' }]);
    const items = writeCsv('ExportOrderDetailList.csv', [
      ITEM_HEADER.join(','),
      itemLine(no, '雪球 保温杯, "限量" 款', '100.00', '1'),
      itemLine(no, '杯套', '50.00', '1', '颜色分类：粉\n尺寸：大'),
      itemLine('3299999999999999999', '没有这个订单', '1.00', '1'),
      itemLine(no, '坏行', 'abc', '1'),
    ]);
    const r = await importNow({ orders, items }, 'taobao', '宝贝店');
    expect(r.summary.items).toEqual({ read: 4, attached: 2, rejected: 2 });
    const [o] = await q('SELECT items FROM sales_order WHERE order_no = $1', [no]);
    expect(o.items).toHaveLength(2);
    expect(o.items[0]).toMatchObject({ title: '雪球 保温杯, "限量" 款', priceFen: 10000, quantity: 1, sku: 'SKU-001' });
    expect(o.items[1].props).toBe('颜色分类：粉\n尺寸：大');
    const rejects = await t.app.services.taobaoImport.rejects({}, r.id, 10, 0);
    expect(rejects.map((x) => [x.file, x.line])).toEqual([
      ['items', 5],
      ['items', 6],
    ]);
    const again = await importNow({ items }, 'taobao', '宝贝店');
    expect(again.summary.items.attached).toBe(2);
    const [same] = await q('SELECT items FROM sales_order WHERE order_no = $1', [no]);
    expect(same.items).toEqual(o.items);
  });

  it('rejects dates the database would refuse (30 February, minute 75) as rows, and imports the rest', async () => {
    const file = ordersFile([
      { orderNo: '3500000000000000001', createdAt: '2026-02-30 10:00:00' },
      { orderNo: '3500000000000000002', createdAt: '2026-10-01 10:75:00' },
      { orderNo: '3500000000000000003', paidAt: '2026-10-01 10:00:60' },
      { orderNo: '3500000000000000004', createdAt: '2028-02-29 23:59:59', paidAt: '2028/3/1 0:00' },
    ]);
    const r = await importNow({ orders: file }, 'taobao', '日期店');
    expect(r.summary).toMatchObject({ read: 4, inserted: 1, rejected: 3 });
    const rejects = await t.app.services.taobaoImport.rejects({}, r.id, 10, 0);
    expect(rejects.map((x) => [x.line, x.reason])).toEqual([
      [2, '订单创建时间 "2026-02-30 10:00:00" is not a date'],
      [3, '订单创建时间 "2026-10-01 10:75:00" is not a date'],
      [4, '订单付款时间 "2026-10-01 10:00:60" is not a date'],
    ]);
    const [o] = await q("SELECT ordered_at, paid_at FROM sales_order WHERE order_no = '3500000000000000004'");
    expect([new Date(o.ordered_at).toISOString(), new Date(o.paid_at).toISOString()]).toEqual(['2028-02-29T15:59:59.000Z', '2028-02-29T16:00:00.000Z']);
  });

  it('gives the same result whether the report is merged in one segment or in many (repeats across segments)', async () => {
    const summaries = [];
    for (const [segmentRows, prefix] of [[1000, '37'], [2, '38']] as const) {
      const s = new TaobaoImportService(t.app.infra.db, t.app.services.members, { phoneKey: 'k', embedded: !process.env.DATABASE_URL, keepFiles: true, segmentRows });
      const run = async (file: string) => s.run({}, await s.create({}, { source: 'cli', channelKind: 'taobao', storeName: '分段店', ordersFile: file }));
      const [a, b, c, d] = [1, 2, 3, 4].map((k) => `${prefix}0000000000000000${k}`);
      await run(ordersFile([
        { orderNo: b!, status: '买家已付款，等待卖家发货', total: '50.00' },
        { orderNo: d!, status: '买家已付款，等待卖家发货', total: '60.00' },
      ]));
      // Segments of two rows: A's last row (paid, 90) comes after a completed one; B and C repeat across segments;
      // D's last row is the very row it was imported from, so an earlier different row of it changes nothing.
      const file = ordersFile([
        { orderNo: a!, status: '交易成功', total: '100.00' },
        { orderNo: b!, status: '卖家已发货，等待买家确认', total: '50.00' },
        { orderNo: c!, status: '买家已付款，等待卖家发货', total: '20.00' },
        { orderNo: d!, status: '卖家已发货，等待买家确认', total: '60.00' },
        { orderNo: a!, status: '买家已付款，等待卖家发货', total: '90.00' },
        { orderNo: b!, status: '交易成功', total: '50.00', refund: '10.00' },
        { orderNo: c!, status: '买家已付款，等待卖家发货', total: '20.00' },
        { orderNo: d!, status: '买家已付款，等待卖家发货', total: '60.00' },
      ]);
      const first = await run(file);
      const again = await run(file);
      const rows = await q('SELECT order_no, state, total_fen, refund_fen FROM sales_order WHERE order_no = ANY($1) ORDER BY order_no', [[a, b, c, d]]);
      summaries.push({ first, again, rows: rows.map((r: { order_no: string }) => ({ ...r, order_no: r.order_no.slice(2) })) });
    }
    const pick = ({ read, inserted, updated, unchanged, duplicates, rejected }: ImportSummary) => ({ read, inserted, updated, unchanged, duplicates, rejected });
    expect(pick(summaries[0]!.first)).toEqual({ read: 8, inserted: 2, updated: 1, unchanged: 1, duplicates: 4, rejected: 0 });
    expect(pick(summaries[0]!.again)).toEqual({ read: 8, inserted: 0, updated: 0, unchanged: 4, duplicates: 4, rejected: 0 });
    expect(summaries[0]!.rows).toEqual([
      { order_no: '00000000000000001', state: 'paid', total_fen: '9000', refund_fen: '0' },
      { order_no: '00000000000000002', state: 'completed', total_fen: '5000', refund_fen: '1000' },
      { order_no: '00000000000000003', state: 'paid', total_fen: '2000', refund_fen: '0' },
      { order_no: '00000000000000004', state: 'paid', total_fen: '6000', refund_fen: '0' },
    ]);
    expect(pick(summaries[1]!.first)).toEqual(pick(summaries[0]!.first));
    expect(pick(summaries[1]!.again)).toEqual(pick(summaries[0]!.again));
    expect(summaries[1]!.rows).toEqual(summaries[0]!.rows);
  });

  it('leaves nothing behind when the file breaks after earlier segments were merged', async () => {
    const s = new TaobaoImportService(t.app.infra.db, t.app.services.members, { phoneKey: 'k', embedded: !process.env.DATABASE_URL, keepFiles: true, segmentRows: 2 });
    const good = Array.from({ length: 7 }, (_, i) => ({ orderNo: `390000000000000000${i}` }));
    // An unclosed quote swallows the rest of the file: past the longest record allowed, the import fails for good.
    const file = ordersFile(good, 'utf8', [`="3900000000000000099",t**1,"${'很长的留言'.repeat(250_000)}`]);
    const id = await s.create({}, { source: 'cli', channelKind: 'taobao', storeName: '断裂店', ordersFile: file });
    await expect(s.run({}, id)).rejects.toMatchObject({ code: 'import_file_invalid' });
    const [job] = await q('SELECT status, error FROM taobao_import WHERE id = $1', [id]);
    expect(job).toMatchObject({ status: 'failed', error: expect.stringMatching(/longer than/) });
    const [n] = await q("SELECT count(*)::int AS n FROM sales_order WHERE order_no LIKE '39000000000000000%'");
    expect(n.n).toBe(0);
    const [stage] = await q("SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'import_stage_%'");
    expect(stage.n).toBe(0);
  });

  it('keeps the database rule on order numbers: 1–40 letters, digits, _ or -', async () => {
    const [c] = await q("SELECT id FROM sales_channel WHERE kind = 'taobao' LIMIT 1");
    const insert = (no: string) => q("INSERT INTO sales_order (channel_id, order_no, state) VALUES ($1, $2, 'paid')", [c.id, no]);
    await insert('A'.repeat(40));
    await insert('3600000000000000001_x-Y');
    for (const bad of ['A'.repeat(41), '', '3600 1', '36000000000000000.1', '订单1']) {
      await expect(insert(bad)).rejects.toThrow(/sales_order_order_no_check/);
    }
  });

  it('keeps sales channels permanent, and the audit finds an order whose channel is missing', async () => {
    const { ordersWithoutChannel } = await import('../../server/modules/members/orders-audit');
    const [c] = await q("SELECT id FROM sales_channel WHERE kind = 'taobao' LIMIT 1");
    await expect(q('DELETE FROM sales_channel WHERE id = $1', [c.id])).rejects.toThrow(/sales channels are permanent/);
    await expect(q('UPDATE sales_channel SET id = gen_random_uuid() WHERE id = $1', [c.id])).rejects.toThrow(/sales channels are permanent/);
    await q('UPDATE sales_channel SET name = name WHERE id = $1', [c.id]);
    expect(await ordersWithoutChannel(t.app.infra.db)).toEqual({ count: 0, sample: [] });
    const [stray] = await q("INSERT INTO sales_order (channel_id, order_no, state) VALUES (gen_random_uuid(), '3650000000000000001', 'paid') RETURNING id");
    expect(await ordersWithoutChannel(t.app.infra.db)).toEqual({ count: 1, sample: [{ id: stray.id, orderNo: '3650000000000000001' }] });
    await q('DELETE FROM sales_order WHERE id = $1', [stray.id]);
  });

  it('keeps line numbers right across a file read in many chunks (quoted line breaks, a broken row near the end)', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      orderNo: String(3400000000000000000n + BigInt(i)),
      nick: `c**${i % 10}`,
      total: `${10 + (i % 90)}.50`,
      message: i % 10 === 0 ? `第${i}单\r\n放门口,谢谢 "快"` : '',
    }));
    rows[2990] = { ...rows[2990]!, total: 'abc' };
    const r = await importNow({ orders: ordersFile(rows, 'gbk') }, 'taobao', '分块店');
    expect(fs.statSync(ordersFile(rows, 'gbk')).size).toBeGreaterThan(4 * 65536);
    expect(r.summary).toMatchObject({ read: 3000, inserted: 2999, rejected: 1 });
    // Header on line 1; every tenth row before the broken one takes two lines.
    const rejects = await t.app.services.taobaoImport.rejects({}, r.id, 10, 0);
    expect(rejects.map((x) => x.line)).toEqual([2 + 2990 + 299]);
    const [o] = await q("SELECT buyer_message, total_fen FROM sales_order WHERE order_no = '3400000000000000990'");
    expect(o).toEqual({ buyer_message: '第990单\r\n放门口,谢谢 "快"', total_fen: '1050' });
  });

  it('fails a file without an order-number column for good, with the reason, and refuses bad uploads clearly', async () => {
    const bad = writeCsv('wrong.csv', ['名字,金额', '张三,1.00'], 'utf8');
    const res = await upload({}, { orders: bad });
    const done = await waitForImport(res.json().id);
    expect(done).toMatchObject({ status: 'failed', error: expect.stringMatching(/no 订单编号 column/) });

    const none = await upload({ channelKind: 'taobao' }, {});
    expect(none.statusCode).toBe(400);
    expect(none.json().code).toBe('no_files');
    const kind = await upload({ channelKind: 'jd' }, { orders: bad });
    expect(kind.json().code).toBe('invalid_channel_kind');
    const json = await t.app.inject({ method: 'POST', url: '/api/admin/imports', headers: auth, payload: { orders: 'x' } });
    expect(json.statusCode).toBe(400);
    const missing = await t.app.inject({ method: 'GET', url: '/api/admin/imports/00000000-0000-0000-0000-000000000000', headers: auth });
    expect(missing.json().code).toBe('import_not_found');
  });

  it('lets only owners and operators import', async () => {
    await t.app.inject({
      method: 'POST',
      url: '/api/admin/staff',
      headers: auth,
      payload: { username: 'cs-import', password: 'cs-password-123', role: 'customer_service' },
    });
    const login = await t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'cs-import', password: 'cs-password-123' } });
    const body = multipart({}, { orders: ordersFile([{ orderNo: '3300000000000000001' }]) });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/admin/imports',
      headers: { authorization: `Bearer ${login.json().token}`, ...body.headers },
      payload: body.payload,
    });
    expect(res.statusCode).toBe(403);
  });
});
