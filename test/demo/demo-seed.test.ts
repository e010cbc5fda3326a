import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { loadConfig } from '../../server/config';
import { generateDemoExport } from '../../server/sandbox/demo/demo-export';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { multipart } from '../helpers/multipart';
import { pdfTexts } from '../helpers/pdf-text';

interface DemoView {
  brand: string;
  batch: { id: string; name: string; scene: string; ticket: string };
  orders: Array<{ orderNo: string; phoneLast4: string; buyerNick: string; totalFen: number; bound: boolean }>;
  rewardFen: number;
  ownerUsername: string | null;
}

const DEMO_ENV = { DEMO_SEED: 'true', ADMIN_USERNAME: '', ADMIN_PASSWORD: '', WXPAY_SANDBOX_TIME_SCALE: '0.001' };
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 1)]);

describe('the demo shop of sandbox mode', () => {
  let database: TestDatabase;
  let t: SandboxTestApp | undefined;

  const q = async (sql: string, params: unknown[] = []) => (await t!.app.infra.db.dataSource.query(sql, params)) as Array<Record<string, any>>;
  const counts = async () =>
    (
      await q(`SELECT (SELECT count(*)::int FROM sales_order) AS orders, (SELECT count(*)::int FROM taobao_import) AS imports,
                      (SELECT count(*)::int FROM parcel_batch) AS batches, (SELECT count(*)::int FROM review_campaign) AS campaigns,
                      (SELECT count(*)::int FROM product) AS products, (SELECT count(*)::int FROM product_sku) AS skus,
                      (SELECT count(*)::int FROM mall_item) AS mall, (SELECT count(*)::int FROM staff_account) AS staff,
                      (SELECT count(*)::int FROM gift_box_campaign) AS "giftBoxCampaigns"`)
    )[0];
  const demoView = async () => (await t!.sandbox('GET', '/demo')).body.demo as DemoView | null;
  const say = async (id: string, text: string) => (await t!.sandbox('POST', `/people/${id}/messages`, { text })).body.reply?.Content as string;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
  });

  it('seeds, through the real services, an export of 300 orders, a parcel batch, a campaign, products, mall items and a demo owner', async () => {
    t = await buildSandboxApp(DEMO_ENV, { database });
    expect(await t.app.services.demo.settled()).toBe('seeded');

    expect(await counts()).toEqual({ orders: 300, imports: 1, batches: 1, campaigns: 1, products: 3, skus: 6, mall: 3, staff: 1, giftBoxCampaigns: 1 });
    const [imp] = await q("SELECT status, created_by, summary FROM taobao_import");
    expect(imp).toMatchObject({ status: 'succeeded', created_by: 'demo-seed' });
    expect(imp!.summary).toMatchObject({ read: 300, inserted: 300, rejected: 0 });
    // Masked as the seller center masks: the importer kept only what the export shows.
    const masked = await q("SELECT buyer_nick, receiver_phone, phone_last4 FROM sales_order LIMIT 20");
    for (const o of masked) {
      expect(o.buyer_nick).toMatch(/^.\*\*.$/);
      expect(o.receiver_phone).toMatch(/^1\d\d\*{4}\d{4}$/);
      expect(o.receiver_phone.slice(-4)).toBe(o.phone_last4);
    }
    const states = (await q('SELECT state, count(*)::int AS n FROM sales_order GROUP BY state')).map((r) => r.state);
    expect(states).toEqual(expect.arrayContaining(['completed', 'shipped', 'closed']));

    const [campaign] = await q('SELECT reward_kind, amount_fen, active, extract(epoch FROM ends_at - starts_at)::int AS seconds FROM review_campaign');
    expect(campaign).toEqual({ reward_kind: 'cash', amount_fen: 500, active: true, seconds: 30 * 86_400 });
    const [batch] = await q("SELECT qr_kind, qr_ticket, scene FROM parcel_batch");
    expect(batch).toMatchObject({ qr_kind: 'permanent', scene: expect.stringMatching(/^pb_/) });
    const skus = await q('SELECT stock, price_fen FROM product_sku');
    expect(skus).toHaveLength(6);
    expect(skus.filter((s) => s.stock > 0 && s.price_fen > 0)).toHaveLength(6);
    expect((await q('SELECT kind FROM mall_item ORDER BY sort')).map((r) => r.kind)).toEqual(['coupon', 'shipping_card', 'gift']);
    expect(await q('SELECT username, role FROM staff_account')).toEqual([{ username: 'demo', role: 'owner' }]);

    // The sandbox knows the batch's code (made through qrcode/create) and the page's data names it.
    const demo = (await demoView())!;
    expect(demo.batch).toMatchObject({ ticket: batch!.qr_ticket, scene: batch!.scene });
    expect(demo.rewardFen).toBe(500);
    expect(demo.ownerUsername).toBe('demo');
    expect(demo.orders).toHaveLength(5);
    expect(new Set(demo.orders.map((o) => o.phoneLast4)).size).toBe(5);
    for (const o of demo.orders) {
      expect(o).toMatchObject({ orderNo: expect.stringMatching(/^\d{19}$/), phoneLast4: expect.stringMatching(/^\d{4}$/), bound: false });
    }
    const hinted = await q("SELECT state FROM sales_order WHERE order_no = ANY($1)", [demo.orders.map((o) => o.orderNo)]);
    expect(hinted.map((o) => o.state)).toEqual(Array(5).fill('completed'));
    const codes = (await t.sandbox('GET', '/qrcodes')).body.qrcodes as Array<{ ticket: string; scene: string; permanent: boolean }>;
    expect(codes).toEqual([expect.objectContaining({ ticket: demo.batch.ticket, scene: demo.batch.scene, permanent: true })]);
  });

  it('lets a newcomer follow the hints from the scan to a bound order and a review-reward claim the merchant approves', async () => {
    const demo = (await demoView())!;
    const hint = demo.orders[0]!;
    const person = (await t!.sandbox('POST', '/people', { nickname: '新来的' })).body as { id: string; oaOpenid: string; unionid: string };
    const scan = await t!.sandbox('POST', `/people/${person.id}/scan`, { ticket: demo.batch.ticket });
    expect(scan.body.event).toBe('subscribe');
    expect(scan.body.reply.Content).toContain('欢迎');

    expect(await say(person.id, hint.orderNo)).toContain('后四位');
    const bound = await say(person.id, hint.phoneLast4);
    expect(bound).toContain('绑定成功');
    const after = (await demoView())!;
    expect(after.orders.find((o) => o.orderNo === hint.orderNo)).toMatchObject({ bound: true });
    expect(after.orders.at(-1)!.orderNo).toBe(hint.orderNo); // unbound hints first

    // The mini-program side: the same person logs in (joined by unionid once the follower's info is fetched) and claims.
    const deadline = Date.now() + 15_000;
    const unionid = async () => (await q('SELECT unionid FROM oa_follower WHERE openid = $1', [person.oaOpenid]))[0]?.unionid;
    while (!(await unionid()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const { code } = (await t!.sandbox('POST', `/people/${person.id}/login-code`, {})).body;
    const login = await t!.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
    const member = { authorization: `Bearer ${login.json().token}` };
    expect(login.json().privacy).toEqual({ version: expect.any(String), accepted: false });
    const me = (await t!.app.inject({ method: 'GET', url: '/api/mp/me', headers: member })).json();
    // The shop is generated from a random seed: the points are worked out from the buyer's own completed orders,
    // at one point per yuan times the member's tier multiplier, and the chat reply announced the same figure.
    const [{ expected }] = await q(
      `SELECT coalesce(sum(floor(o.spend_fen * coalesce((d.perks->>'pointsMultiplier')::numeric, 1) / 100)), 0)::int AS expected
         FROM sales_order o JOIN member m ON m.id = o.member_id JOIN tier_definition d ON d.code = m.tier_code
        WHERE o.member_id = $1 AND o.state = 'completed' AND o.spend_fen > 0`,
      [me.id],
    );
    expect(expected).toBeGreaterThan(0); // a hinted order is a completed one
    expect(bound).toContain(`获得 ${expected} 积分`);
    expect(me.pointsBalance).toBe(expected);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-claim-'));
    fs.writeFileSync(path.join(dir, 'review.png'), png);
    const body = multipart({ orderNo: hint.orderNo }, { screenshot: path.join(dir, 'review.png') });
    const postClaim = () => t!.app.inject({ method: 'POST', url: '/api/mp/review-claims', headers: { ...member, ...body.headers }, payload: body.payload });
    // The screenshot waits for the privacy notice, which the mini-program's popup shows first.
    const early = await postClaim();
    expect([early.statusCode, early.json().code]).toEqual([403, 'privacy_consent_required']);
    const accepted = await t!.app.inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: member, payload: { version: login.json().privacy.version } });
    expect(accepted.statusCode).toBe(204);
    const claim = await postClaim();
    expect(claim.statusCode).toBe(201);
    expect(claim.json()).toMatchObject({ status: 'submitted', amountFen: 500 });

    // The merchant side through the admin API (an owner of the test's own: the demo password is only in the log).
    await t!.app.services.staff.createAccount({}, { username: 'boss', password: 'boss-password-1', role: 'owner' });
    const token = (await t!.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'boss', password: 'boss-password-1' } })).json().token;
    const auth = { authorization: `Bearer ${token}` };
    const approved = await t!.app.inject({ method: 'POST', url: `/api/admin/review-claims/${claim.json().id}/approve`, headers: auth });
    expect(approved.json()).toMatchObject({ status: 'transfer_pending', amountFen: 500 });
    const figures = (await t!.app.inject({ method: 'GET', url: `/api/admin/parcel-batches/${demo.batch.id}/figures`, headers: auth })).json();
    expect(figures).toMatchObject({ scans: 1, newFollowers: 1, boundBuyers: 1, reviewRewardClaims: 1 });
  });

  it('prints the demo batch’s card with the review reward and how to claim it: no follow as its condition, no batch name', async () => {
    const demo = (await demoView())!;
    await t!.app.services.staff.createAccount({}, { username: 'printer', password: 'printer-password-1', role: 'operator' });
    const token = (await t!.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'printer', password: 'printer-password-1' } })).json().token;
    const res = await t!.app.inject({ method: 'GET', url: `/api/admin/parcel-batches/${demo.batch.id}/cards.pdf?layout=a6&copies=1`, headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const printed = pdfTexts(res.rawPayload).join('');
    expect(printed).toBe(`${demo.brand}晒单评价有礼在淘宝如实评价并晒图，可领 5 元现金。扫码后发送淘宝订单号，按提示领取。`);
    expect(printed).not.toContain('关注');
    expect(printed).not.toContain(demo.batch.name);
  });

  it('seeds nothing more on the next start, and the batch’s code still scans there', async () => {
    const before = await counts();
    const ticket = (await demoView())!.batch.ticket;
    await t!.close(); // the database is the test's: it survives, as the data directory does between starts
    t = await buildSandboxApp(DEMO_ENV, { database });
    expect(await t.app.services.demo.settled()).toBe('already_seeded');
    expect(await counts()).toEqual(before);
    expect((await demoView())!.batch.ticket).toBe(ticket);

    // The simulated WeChat kept its world under DATA_DIR: the permanent code the server made before is still known.
    const person = (await t.sandbox('POST', '/people', { nickname: '第二天' })).body as { id: string };
    const scan = await t.sandbox('POST', `/people/${person.id}/scan`, { ticket });
    expect(scan.body.event).toBe('subscribe');
    expect(scan.body.reply.Content).toContain('欢迎');
  });
});

describe('when the demo seeds', () => {
  it('is on by default in sandbox mode, off in tests unless asked, off with DEMO_SEED=false and never without the sandbox', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).demoSeed).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).demoSeed).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test', DEMO_SEED: 'true' }).demoSeed).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development', DEMO_SEED: 'false' }).demoSeed).toBe(false);
    expect(loadConfig({ NODE_ENV: 'development', DEMO_SEED: 'true', SANDBOX: 'false', WECHAT_APPID: 'wx1234567890abcdef', WECHAT_SECRET: 's', WECHAT_TOKEN: 'token123' }).demoSeed).toBe(false);
    expect(() => loadConfig({ DEMO_SEED: 'maybe' })).toThrow(/DEMO_SEED/);
  });

  it('writes the export the way the seller center does: GBK, CRLF, ="…" order numbers, masked buyers', () => {
    const exp = generateDemoExport({ count: 40, now: new Date('2026-11-23T03:00:00Z'), seed: 7, storeName: '雪球小店旗舰店' });
    expect(exp.orders).toHaveLength(40);
    expect(exp.bytes.includes(Buffer.from('订单编号', 'utf8'))).toBe(false); // not UTF-8
    const text = iconv.decode(exp.bytes, 'gbk');
    const lines = text.split('\r\n');
    expect(lines[0]!.startsWith('订单编号,买家会员名')).toBe(true);
    expect(lines[1]).toMatch(/^="\d{19}",.\*\*.,/);
    expect(text).toMatch(/'1\d\d\*{4}\d{4}/);
    expect(new Set(exp.orders.map((o) => o.orderNo)).size).toBe(40);
    // The same seed makes the same shop.
    expect(generateDemoExport({ count: 40, now: new Date('2026-11-23T03:00:00Z'), seed: 7, storeName: '雪球小店旗舰店' }).bytes.equals(exp.bytes)).toBe(true);
  });
});
