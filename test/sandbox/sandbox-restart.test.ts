import fs from 'node:fs';
import type { InjectOptions } from 'fastify';
import path from 'node:path';
import { PRIVACY_NOTICE_VERSION } from '../../server/modules/mp-session/mp-session.service';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';

/**
 * The simulated WeChat and WeChat Pay outlive a restart on the same DATA_DIR and database: people, inboxes, scans,
 * codes, orders, refunds. WeChat Pay runs at its real pace (a refund takes 3 s), so one is still processing at the stop.
 */
describe('the sandbox started again on the same data', () => {
  let database: TestDatabase;
  let t: SandboxTestApp | undefined;
  let port: number | undefined;
  /** The second start is at the first one's address: WeChat Pay notifies the notify_url it was given. */
  const start = async () => {
    t = await buildSandboxApp({ WXPAY_SANDBOX_TIME_SCALE: '1' }, { database, port });
    port = Number(new URL(t.baseUrl).port);
  };
  const inject = (o: InjectOptions) => t!.app.inject(o);
  const sql = async (text: string, params: unknown[] = []) => (await t!.app.infra.db.dataSource.query(text, params)) as Array<Record<string, any>>;
  const stockOf = async (skuId: string) => (await sql('SELECT stock FROM product_sku WHERE id = $1', [skuId]))[0]!.stock as number;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** The phone's own way in: a wx.login code from the sandbox, exchanged at /api/mp/login. */
  const phoneLogin = async (personId: string) => {
    const { code } = (await t!.sandbox('POST', `/people/${personId}/login-code`, {})).body as { code: string };
    return phoneSession(code);
  };
  const phoneSession = async (code: string) => {
    const res = await inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
    expect(res.statusCode).toBe(200);
    return { headers: { authorization: `Bearer ${res.json().token}` }, memberId: res.json().member.id as string };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
  });

  // What the first life leaves, for the second to find.
  let before: {
    people: unknown;
    inbox: unknown;
    qrcodes: Array<{ ticket: string; scans: number }>;
    originalId: string;
    pendingCode: string;
    payer: { personId: string; memberId: string };
    paidNo: string;
    paidTradeNo: string;
    unpaidTradeNo: string;
    unpaid: { id: string; orderNo: string };
    skuId: string;
    stock: number;
  };

  it('first life: people scan and talk, one order is paid and being refunded, one is left unpaid', async () => {
    await start();
    const admin = await t!.ownerAuth();
    const product = await inject({ method: 'POST', url: '/api/admin/products', headers: admin, payload: { title: '岩茶', skus: [{ name: '罐', priceFen: 8800, stock: 10 }] } });
    const skuId = product.json().skus[0].id as string;

    // Two people; one scans a code the server made (subscribe) and writes; the other only opens the mini-program.
    const ming = (await t!.sandbox('POST', '/people', { nickname: '阿明' })).body as { id: string };
    const hong = (await t!.sandbox('POST', '/people', { nickname: '小红' })).body as { id: string; mpOpenid: string };
    const qr = await t!.app.services.wechat.oa.createQrCode({ scene: 'restart-scene', permanent: true });
    expect((await t!.sandbox('POST', `/people/${ming.id}/scan`, { ticket: qr.ticket })).body.event).toBe('subscribe');
    expect((await t!.sandbox('POST', `/people/${ming.id}/messages`, { text: '你好' })).status).toBe(200);
    const inbox = (await t!.sandbox('GET', `/people/${ming.id}/inbox`)).body.items as unknown[];
    expect(inbox.length).toBeGreaterThan(0);

    // 小红 buys twice: pays the first order (then it is refunded), leaves the second unpaid.
    const hongPhone = await phoneLogin(hong.id);
    expect((await inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: hongPhone.headers, payload: { version: PRIVACY_NOTICE_VERSION } })).statusCode).toBe(204);
    const address = await inject({
      method: 'POST',
      url: '/api/mp/addresses',
      headers: hongPhone.headers,
      payload: { name: '小红', phone: '13700002222', province: '福建省', city: '厦门市', district: '思明区', detail: '中山路 8 号' },
    });
    const order = async () => {
      const res = await inject({ method: 'POST', url: '/api/mp/orders', headers: hongPhone.headers, payload: { items: [{ skuId, quantity: 2 }], addressId: address.json().id } });
      expect(res.statusCode).toBe(200);
      return res.json().order as { id: string; orderNo: string };
    };
    const paid = await order();
    const unpaid = await order();
    // WeChat Pay knows each order by its payment intent's out_trade_no (the store's prefix and the order number).
    const [{ prepay_id: prepayId, out_trade_no: paidTradeNo }] = await sql("SELECT prepay_id, out_trade_no FROM payment_intent WHERE kind = 'store_order' AND key = $1", [paid.id]);
    const [{ out_trade_no: unpaidTradeNo }] = await sql("SELECT out_trade_no FROM payment_intent WHERE kind = 'store_order' AND key = $1", [unpaid.id]);
    expect((await t!.sandbox('POST', `/people/${hong.id}/pay`, { prepayId })).status).toBe(200);
    for (let i = 0; i < 100 && (await sql('SELECT status FROM store_order WHERE id = $1', [paid.id]))[0]!.status !== 'paid'; i++) await sleep(50);
    const refund = await inject({ method: 'POST', url: `/api/admin/orders/${paid.id}/refund`, headers: admin, payload: { reason: '不想要了' } });
    expect(refund.json().refund).toMatchObject({ status: 'processing' });
    const pendingCode = ((await t!.sandbox('POST', `/people/${hong.id}/login-code`, {})).body as { code: string }).code;

    before = {
      people: (await t!.sandbox('GET', '/people')).body.people,
      inbox,
      qrcodes: (await t!.sandbox('GET', '/qrcodes')).body.qrcodes,
      originalId: (await t!.sandbox('GET', '/stats')).body.originalId,
      pendingCode,
      payer: { personId: hong.id, memberId: hongPhone.memberId },
      paidNo: paid.orderNo,
      paidTradeNo,
      unpaidTradeNo,
      unpaid,
      skuId,
      stock: await stockOf(skuId),
    };
    expect(before.stock).toBe(6);
    expect(before.qrcodes.find((q) => q.ticket === qr.ticket)?.scans).toBe(1);
    const wxpay = t!.app.paySandbox!;
    await t!.close();
    t = undefined;
    // Stopped within the refund's 3 s: WeChat still has it processing.
    expect(wxpay.snapshot().refunds.map((r) => [r.out_trade_no, r.status])).toEqual([[paidTradeNo, 'PROCESSING']]);
    const file = fs.readFileSync(path.join(database.dataDir, 'sandbox', 'state.jsonl'), 'utf8');
    expect(file).toContain('阿明');
  });

  it('second life: the same people, inboxes, scans and codes; the phone logs in as the same member', async () => {
    await start();
    expect((await t!.sandbox('GET', '/people')).body.people).toEqual(before.people);
    const ming = (before.people as Array<{ id: string; nickname: string }>).find((p) => p.nickname === '阿明')!;
    expect((await t!.sandbox('GET', `/people/${ming.id}/inbox`)).body.items).toEqual(before.inbox);
    expect((await t!.sandbox('GET', '/qrcodes')).body.qrcodes).toEqual(before.qrcodes);
    expect((await t!.sandbox('GET', '/stats')).body.originalId).toBe(before.originalId);

    // The phone page of a person, and its login: the code given before the stop works once, a new one too.
    const page = await fetch(`${t!.baseUrl}/sandbox/phone/?person=${encodeURIComponent(before.payer.personId)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('phone.js');
    expect((await t!.sandbox('GET', `/people/${before.payer.personId}`)).status).toBe(200);
    const viaOldCode = await phoneSession(before.pendingCode);
    const again = await inject({ method: 'POST', url: '/api/mp/login', payload: { code: before.pendingCode } });
    expect(again.statusCode).not.toBe(200); // used once already
    const phone = await phoneLogin(before.payer.personId);
    expect([viaOldCode.memberId, phone.memberId]).toEqual([before.payer.memberId, before.payer.memberId]);
    const orders = (await inject({ method: 'GET', url: '/api/mp/orders', headers: phone.headers })).json() as Array<{ orderNo: string }>;
    expect(orders.map((o) => o.orderNo).sort()).toEqual([before.paidNo, before.unpaid.orderNo].sort());

    // A follower scans again: SCAN (WeChat remembers the follow), and the count goes on from 1.
    const ticket = before.qrcodes[0]!.ticket;
    expect((await t!.sandbox('POST', `/people/${ming.id}/scan`, { ticket })).body.event).toBe('SCAN');
    expect(((await t!.sandbox('GET', '/qrcodes')).body.qrcodes as Array<{ ticket: string; scans: number }>).find((q) => q.ticket === ticket)!.scans).toBe(2);
  });

  it('second life: the refund in flight completes and is notified; the unpaid order expires, closed at WeChat, stock back', async () => {
    let status = '';
    for (let i = 0; i < 200 && status !== 'refunded'; i++) {
      status = (await sql('SELECT status FROM store_order WHERE order_no = $1', [before.paidNo]))[0]!.status;
      if (status !== 'refunded') await sleep(50);
    }
    expect(status).toBe('refunded');
    const wxpay = t!.app.paySandbox!;
    expect(wxpay.snapshot().refunds).toEqual([expect.objectContaining({ out_trade_no: before.paidTradeNo, status: 'SUCCESS' })]);
    const notified = wxpay.notifications().filter((d) => d.eventType === 'REFUND.SUCCESS');
    expect(notified).toHaveLength(1);
    expect((await wxpay.settled(notified[0]!.id)).state).toBe('acknowledged');
    // The payment's notification of the first life is still there, acknowledged then.
    expect(wxpay.notifications().filter((d) => d.eventType === 'TRANSACTION.SUCCESS').map((d) => d.state)).toEqual(['acknowledged']);

    // The unpaid order's time runs out (moved to now); the sweep closes it at WeChat Pay, which still knows it.
    await sql("UPDATE store_order SET expires_at = now() - interval '1 second' WHERE id = $1", [before.unpaid.id]);
    expect(await t!.app.services.orders.expireUnpaid({})).toEqual({ cancelled: 1 });
    expect(wxpay.queryOrder({ outTradeNo: before.unpaidTradeNo }, wxpay.keys.mchid).trade_state).toBe('CLOSED');
    expect(await stockOf(before.skuId)).toBe(10); // 2 back from the refund (unshipped), 2 from the expired order
  });
});
