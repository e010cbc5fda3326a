import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InjectOptions } from 'fastify';
import type { PrivacyTable } from '../../server/infra/privacy';
import { auditLedger } from '../../server/modules/points/points-audit';
import { shanghaiDay } from '../../server/infra/time';
import { multipart } from '../helpers/multipart';
import { storeKit, type StoreKit, type StoreMember } from '../store/store-kit';
import { ordersFile } from '../taobao/taobao-files';
import { readableExport, unlabelledKeys } from '../../miniprogram/src/models/privacy-export.model';

/**
 * PIPL export and erasure, and merges, through every module's privacy hooks: the database's own catalog says which
 * columns hold a member id or personal data, and each must be covered; then a member with data in every module is
 * exported, erased and merged through the real routes.
 * The queue's workers are off so that the follower-info sweep (which joins an Official Account follower to the
 * mini-program member by unionid, merging them when both exist) runs when the test says.
 */
let k: StoreKit;
const inject = (o: InjectOptions) => k.t.app.inject(o);
const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);
const sweep = () => k.t.app.services.parcels.fetchFollowersInfo({});
const setAvatar = (m: StoreMember) => {
  const body = multipart({}, { avatar: shotFile });
  return inject({ method: 'POST', url: '/api/mp/me/avatar', headers: { ...m.headers, ...body.headers }, payload: body.payload });
};

// Columns that hold a member id, and columns whose name says they hold personal data; a few more by name.
const MEMBER_COLUMN = /^(member_id|merged_into)$/;
const PERSONAL_COLUMN = /openid|unionid|phone|address|nick|^buyer_|^receiver_|screenshot|session_key/;
/** Named like personal data, but not: the screenshot's MIME type. */
const NOT_PERSONAL = ['review_claim.screenshot_type'];
const PERSONAL_BY_NAME = ['member_avatar.bytes', 'member.birthday', 'member.region', 'member.notes', 'member_identity.value', 'oa_message.content', 'wxpay_notification.resource', 'store_address.name', 'store_address.detail'];

const LIN_ORDER = { orderNo: '4036455525271593001', nick: 'l**n', phone: "'139****6606", receiver: '林*', address: '上海市 徐汇区 衡山路 8号 200031', message: '请放快递柜', total: '200.00', status: '交易成功' };
const JIA_ORDER = { orderNo: '4036455525271593002', nick: 'j**a', phone: "'139****7001", total: '30.00', status: '交易成功' };
const YI_ORDER = { orderNo: '4036455525271593003', nick: 'y**i', phone: "'139****7002", total: '40.00', status: '交易成功' };
const CHAT_ORDER = { orderNo: '4036455525271593004', nick: 'c**t', phone: "'139****7003", total: '50.00', status: '交易成功' };
const LIN_ADDRESS = { name: '林小满', phone: '13955556606', province: '上海市', city: '上海市', district: '徐汇区', detail: '衡山路 88 弄 3 室' };
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 9)]);
const shotFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'privacy-')), 'review.png');
let skuId: string;
const items: Record<'coupon' | 'card' | 'gift', string> = { coupon: '', card: '', gift: '' };

beforeAll(async () => {
  fs.writeFileSync(shotFile, png);
  k = await storeKit({ QUEUE_ENABLED: 'false', WXPAY_SANDBOX_TIME_SCALE: '0.001' });
  const imp = k.t.app.services.taobaoImport;
  await imp.run({}, await imp.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: ordersFile([LIN_ORDER, JIA_ORDER, YI_ORDER, CHAT_ORDER]) }));
  const tiers = await inject({
    method: 'PUT',
    url: '/api/admin/tiers',
    headers: k.admin,
    payload: [
      { code: 'regular', name: '普通会员', rank: 0, minSpend12mFen: 0, minOrders12m: 0, perks: { freeShipping: false, discountPercent: 0, pointsMultiplier: 1, birthdayGift: false } },
      { code: 'silver', name: '银卡会员', rank: 1, minSpend12mFen: 10_000, minOrders12m: 0, perks: { freeShipping: false, discountPercent: 0, pointsMultiplier: 1, birthdayGift: false } },
    ],
  });
  expect(tiers.statusCode).toBe(200);
  const product = await inject({ method: 'POST', url: '/api/admin/products', headers: k.admin, payload: { title: '龙井茶', skus: [{ name: '罐', priceFen: 12_000, stock: 50 }] } });
  skuId = product.json().skus[0].id;
  const item = async (body: Record<string, unknown>) => (await inject({ method: 'POST', url: '/api/admin/mall/items', headers: k.admin, payload: body })).json().id as string;
  items.coupon = await item({ kind: 'coupon', name: '满 50 减 5', pointsCost: 10, stock: 20, couponValueFen: 500, couponMinSpendFen: 5000, couponValidDays: 30 });
  items.card = await item({ kind: 'shipping_card', name: '包邮月卡', pointsCost: 10, stock: 20, shippingCardPeriod: 'monthly' });
  items.gift = await item({ kind: 'gift', name: '帆布袋', pointsCost: 10, stock: 20 });
  const campaign = await inject({
    method: 'POST',
    url: '/api/admin/review-campaigns',
    headers: k.admin,
    payload: { name: '晒单有礼', rewardKind: 'cash', amountFen: 500, startsAt: new Date(Date.now() - 3600_000).toISOString(), endsAt: new Date(Date.now() + 7 * 86_400_000).toISOString() },
  });
  expect(campaign.statusCode).toBe(201);
});
afterAll(async () => k.t.close());

/** Every hook's table declarations, joined per table. */
function declared(): Map<string, { member: Set<string>; personal: Set<string>; exportedAs: string[]; keptOnMerge: string[]; hooks: string[] }> {
  const out = new Map<string, { member: Set<string>; personal: Set<string>; exportedAs: string[]; keptOnMerge: string[]; hooks: string[] }>();
  for (const h of k.t.app.services.privacy.hooks) {
    for (const [table, d] of Object.entries(h.tables) as Array<[string, PrivacyTable]>) {
      const e = out.get(table) ?? { member: new Set(), personal: new Set(), exportedAs: [], keptOnMerge: [], hooks: [] };
      d.member?.forEach((c) => e.member.add(c));
      d.personal?.forEach((c) => e.personal.add(c));
      if (d.exportedAs) e.exportedAs.push(d.exportedAs);
      if (d.keptOnMerge) e.keptOnMerge.push(d.keptOnMerge);
      e.hooks.push(h.name);
      out.set(table, e);
    }
  }
  return out;
}

/** The export's entry at `a.b.c`: a list's length, 1 for an object, 0 for nothing. */
function exportedCount(data: Record<string, unknown>, at: string): number {
  const v = at.split('.').reduce<unknown>((o, key) => (o as Record<string, unknown> | null)?.[key], data);
  if (Array.isArray(v)) return v.length;
  return v && typeof v === 'object' ? 1 : 0;
}

/** The member's rows per table, by the member columns the hooks declare (the member row itself by id). */
async function memberRows(memberId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [table, d] of declared()) {
    if (d.member.size === 0) continue;
    const where = table === 'member' ? 'id = $1' : [...d.member].map((c) => `${c} = $1`).join(' OR ');
    counts[table] = (await sql(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, [memberId]))[0].n;
  }
  return counts;
}

const text = (v: unknown): string[] => {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(text);
  if (v && typeof v === 'object') return Object.values(v).flatMap(text);
  return [];
};
/** Long enough not to turn up by chance elsewhere (three characters of Chinese, six of ASCII). */
const distinctive = (s: string) => s !== 'erased' && !s.startsWith('erased:') && (/[^\x00-\x7f]/.test(s) ? s.length >= 3 : s.length >= 6);

async function everyRowAsText(): Promise<string> {
  const tables = (await sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")) as Array<{ table_name: string }>;
  const parts: string[] = [];
  for (const { table_name } of tables) {
    for (const r of (await sql(`SELECT t::text AS row FROM ${table_name} t`)) as Array<{ row: string }>) parts.push(`${table_name}: ${r.row}`);
  }
  return parts.join('\n');
}

describe('the catalog', () => {
  it('every column holding a member id, an openid, a unionid, a phone, an address or a name is covered by a module’s hooks', async () => {
    const catalog = (await sql("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2")) as Array<{
      table_name: string;
      column_name: string;
    }>;
    const d = declared();
    const flaggedMember = catalog.filter((c) => MEMBER_COLUMN.test(c.column_name));
    const name = (c: { table_name: string; column_name: string }) => `${c.table_name}.${c.column_name}`;
    const flaggedPersonal = catalog.filter((c) => (PERSONAL_COLUMN.test(c.column_name) || PERSONAL_BY_NAME.includes(name(c))) && !NOT_PERSONAL.includes(name(c)));
    // The catalog finds what it should (the test would see a new table).
    expect(flaggedMember.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(expect.arrayContaining(['store_order.member_id', 'check_in.member_id', 'mp_session.member_id']));
    expect(flaggedPersonal.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(
      expect.arrayContaining(['store_order.payer_openid', 'mall_redemption.address', 'oa_follower.unionid', 'sales_order.receiver_name', 'check_in_reminder.mp_openid']),
    );

    const uncovered = [
      ...flaggedMember.filter((c) => !d.get(c.table_name)?.member.has(c.column_name)).map((c) => `${c.table_name}.${c.column_name}: no merge hook moves it`),
      ...flaggedPersonal.filter((c) => !d.get(c.table_name)?.personal.has(c.column_name)).map((c) => `${c.table_name}.${c.column_name}: no erase hook clears it`),
      ...[...d].filter(([, e]) => e.exportedAs.length === 0 && e.member.size > 0).map(([t]) => `${t}: in no export`),
    ];
    expect(uncovered).toEqual([]);
    // Personal tables without a member column are exported too (by the openids the member has).
    expect([...d].filter(([, e]) => e.personal.size > 0 && e.member.size === 0 && e.exportedAs.length === 0).map(([t]) => t)).toEqual(['wxpay_notification']);

    // No hook declares a column the database does not have.
    const exists = new Set(catalog.map((c) => `${c.table_name}.${c.column_name}`));
    const stale = [...d].flatMap(([t, e]) => [...e.member, ...e.personal].filter((c) => !exists.has(`${t}.${c}`)).map((c) => `${t}.${c}`));
    expect(stale).toEqual([]);
  });
});

describe('export and erasure through every module', () => {
  let lin: StoreMember;
  let oaOpenid: string;
  let unionid: string;

  it('a member with data in every module: the export holds every table’s rows and every personal value', async () => {
    lin = await k.member('林小满');
    const person = (await k.t.sandbox('GET', `/people/${lin.personId}`)).body as { oaOpenid: string; unionid: string };
    ({ oaOpenid, unionid } = person);
    // The Official Account: a follow, a message, and the sweep that joins the follower to the member by unionid.
    expect((await k.t.sandbox('POST', `/people/${lin.personId}/follow`, {})).status).toBe(200);
    expect((await k.t.sandbox('POST', `/people/${lin.personId}/messages`, { text: '衡山路的包裹到了吗' })).status).toBe(200);
    expect(await sweep()).toBe(1);
    expect(await sql('SELECT member_id FROM oa_follower WHERE openid = $1', [oaOpenid])).toEqual([{ member_id: lin.memberId }]);
    // The console: profile and notes (audited).
    const patch = await inject({ method: 'PATCH', url: `/api/admin/members/${lin.memberId}`, headers: k.admin, payload: { nickname: '小满同学', region: '上海徐汇', notes: '偏爱绿茶礼盒' } });
    expect(patch.statusCode).toBe(204);
    // The ledger: a bound Taobao order (points, a tier change).
    expect((await inject({ method: 'POST', url: '/api/mp/bindings', headers: lin.headers, payload: { orderNo: LIN_ORDER.orderNo, phoneLast4: '6606' } })).statusCode).toBe(200);
    // Check-ins: seven days before today (a make-up card on the seventh), today, and the evening reminder.
    for (let d = 7; d >= 1; d--) await k.t.app.services.checkIns.checkIn({}, lin.memberId, new Date(Date.now() - d * 86_400_000));
    expect((await inject({ method: 'POST', url: '/api/mp/check-ins', headers: lin.headers })).json().streak).toBe(8);
    expect((await inject({ method: 'POST', url: '/api/mp/check-ins/reminder', headers: lin.headers, payload: { accepted: true } })).statusCode).toBe(204);
    // The store: an address, the cart, the mall (coupon, free-shipping card, a gift sent to the address), a paid order.
    const address = (await inject({ method: 'POST', url: '/api/mp/addresses', headers: lin.headers, payload: LIN_ADDRESS })).json();
    await k.grant(lin.memberId, 1000);
    for (const [itemId, addressId] of [[items.coupon], [items.card], [items.gift, address.id]]) {
      const r = await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: lin.headers, payload: { itemId, addressId } });
      expect(r.statusCode).toBe(200);
    }
    const placed = await inject({ method: 'POST', url: '/api/mp/orders', headers: lin.headers, payload: { items: [{ skuId, quantity: 1 }], addressId: address.id } });
    expect(placed.statusCode).toBe(200);
    await k.pay(lin, placed.json().order.id);
    const asked = await inject({ method: 'POST', url: `/api/mp/orders/${placed.json().order.id}/after-sales`, headers: lin.headers, payload: { reason: '尺寸不合适' } });
    expect(asked.statusCode).toBe(200);
    expect((await inject({ method: 'PUT', url: '/api/mp/cart/items', headers: lin.headers, payload: { skuId, quantity: 2 } })).statusCode).toBe(200);
    // The review reward: a claim with a screenshot, approved, paid by a transfer the member confirms.
    const body = multipart({ orderNo: LIN_ORDER.orderNo }, { screenshot: shotFile });
    const claim = await inject({ method: 'POST', url: '/api/mp/review-claims', headers: { ...lin.headers, ...body.headers }, payload: body.payload });
    expect(claim.statusCode).toBe(201);
    // The profile: an avatar from WeChat's chooseAvatar, uploaded by the mini-program.
    expect((await setAvatar(lin)).statusCode).toBe(200);
    const approved = await inject({ method: 'POST', url: `/api/admin/review-claims/${claim.json().id}/approve`, headers: k.admin });
    expect(approved.json().status).toBe('transfer_pending');
    const pkg = (await inject({ method: 'GET', url: `/api/mp/review-claims/${claim.json().id}/transfer`, headers: lin.headers })).json().package;
    expect((await k.t.sandbox('POST', `/people/${lin.personId}/confirm-transfer`, { packageInfo: pkg })).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while ((await sql('SELECT status FROM review_claim WHERE id = $1', [claim.json().id]))[0].status !== 'paid' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(await sql("SELECT event_type FROM wxpay_notification WHERE resource::text LIKE '%' || $1 || '%' ORDER BY event_type", [lin.mpOpenid])).toEqual([
      { event_type: 'MCHTRANSFER.BILL.FINISHED' },
      { event_type: 'TRANSACTION.SUCCESS' },
    ]);

    // The gift box: Lin helps a friend's box open, then starts her own from it.
    const giftBoxCampaign = await inject({
      method: 'POST',
      url: '/api/admin/gift-box-campaigns',
      headers: k.admin,
      payload: { name: '九人拆礼盒', rules: '邀请 9 位好友帮拆，拆开得 100 积分', reward: { kind: 'points', points: 100 }, startsAt: new Date(Date.now() - 3600_000).toISOString(), endsAt: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(giftBoxCampaign.statusCode).toBe(201);
    const boxFriend = await k.member('拆盒好友');
    const friendBox = await inject({ method: 'POST', url: '/api/mp/gift-boxes', headers: boxFriend.headers, payload: { campaignId: giftBoxCampaign.json().id } });
    expect((await inject({ method: 'POST', url: `/api/mp/gift-boxes/${friendBox.json().id}/helps`, headers: lin.headers })).statusCode).toBe(200);
    const linBox = await inject({ method: 'POST', url: '/api/mp/gift-boxes', headers: lin.headers, payload: { campaignId: giftBoxCampaign.json().id, parentBoxId: friendBox.json().id } });
    expect(linBox.statusCode).toBe(201);

    // Every table that keeps something of a member has rows of this one.
    const rows = await memberRows(lin.memberId);
    expect(Object.entries(rows).filter(([, n]) => n === 0).map(([t]) => t)).toEqual([]);

    const mine = await inject({ method: 'GET', url: '/api/mp/me/export', headers: lin.headers });
    expect(mine.statusCode).toBe(200);
    const data = mine.json() as Record<string, unknown>;
    const d = declared();
    for (const [table, n] of Object.entries(rows)) {
      expect({ table, exported: exportedCount(data, d.get(table)!.exportedAs[0]!) }).toEqual({ table, exported: n });
    }
    // The mini-program shows this export in Chinese: every section and field of it has a label there.
    expect(unlabelledKeys(data)).toEqual([]);
    const readable = readableExport(data);
    expect(readable).toContain('【会员资料】');
    expect(readable).toContain(`订单号：${LIN_ORDER.orderNo}`);
    expect(readable).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
    const byOpenid = async (table: string) => (await sql(`SELECT count(*)::int AS n FROM ${table} WHERE openid = $1`, [oaOpenid]))[0].n as number;
    expect(exportedCount(data, d.get('follow_event')!.exportedAs[0]!)).toBe(await byOpenid('follow_event'));
    expect(exportedCount(data, d.get('oa_message')!.exportedAs[0]!)).toBe(await byOpenid('oa_message'));
    const json = JSON.stringify(data);
    for (const v of [lin.mpOpenid, oaOpenid, unionid, LIN_ADDRESS.name, LIN_ADDRESS.phone, LIN_ADDRESS.detail, '衡山路的包裹到了吗', '小满同学', '偏爱绿茶礼盒', LIN_ORDER.message]) {
      expect({ v, exported: json.includes(v) }).toEqual({ v, exported: true });
    }
    expect(data).toMatchObject({
      miniProgram: { privacyConsent: { version: expect.any(String) } },
      store: { orders: [{ payer_openid: lin.mpOpenid, status: 'paid', address: { name: LIN_ADDRESS.name } }], redemptions: expect.arrayContaining([expect.objectContaining({ item: '帆布袋' })]) },
      checkIns: { makeUpCards: { cards: 1 }, reminder: { mp_openid: lin.mpOpenid, remaining: 1 } },
      reviewRewards: { claims: [{ order_no: LIN_ORDER.orderNo, status: 'paid', amount_fen: 500 }] },
    });
    // The console's export is the same data.
    const staffExport = (await inject({ method: 'GET', url: `/api/admin/members/${lin.memberId}/export`, headers: k.admin })).json();
    const { exportedAt: _a, audit: _b, ...rest } = staffExport;
    const { exportedAt: _c, audit: _d, ...restMine } = data;
    expect(rest).toEqual(restMine);
  });

  it('erasure leaves no personal value in any table and keeps every amount', async () => {
    // The personal values the hooks declare, as stored (text, and the strings inside JSON), and the ones WeChat gave.
    const values = new Set([lin.mpOpenid, oaOpenid, unionid, '衡山路的包裹到了吗']);
    for (const [table, e] of declared()) {
      if (e.member.size === 0 || e.personal.size === 0) continue;
      const where = table === 'member' ? 'id = $1' : [...e.member].map((c) => `${c} = $1`).join(' OR ');
      const personal = [...e.personal].filter((c) => !(table === 'sales_order' && c === 'extra'));
      for (const r of (await sql(`SELECT ${personal.join(', ')} FROM ${table} WHERE ${where}`, [lin.memberId])) as Array<Record<string, unknown>>) {
        for (const v of Object.values(r).flatMap(text)) if (distinctive(v)) values.add(v);
      }
    }
    expect([...values]).toEqual(expect.arrayContaining([LIN_ADDRESS.detail, LIN_ADDRESS.name, '偏爱绿茶礼盒', LIN_ORDER.message]));
    const amounts = async () =>
      (
        await sql(`SELECT (SELECT sum(payable_fen)::int FROM store_order) AS store, (SELECT sum(spend_fen)::int FROM sales_order) AS taobao,
                          (SELECT sum(amount_fen)::int FROM review_claim) AS claims, (SELECT sum(points_spent)::int FROM mall_redemption) AS mall,
                          (SELECT sum(reward_points)::int FROM check_in) AS check_ins, (SELECT count(*)::int FROM wxpay_notification) AS notifications,
                          (SELECT count(*)::int FROM follow_event) AS follows`)
      )[0];
    const before = await amounts();

    const erased = await inject({ method: 'POST', url: '/api/mp/me/erase', headers: lin.headers, payload: { confirm: true } });
    expect(erased.statusCode).toBe(204);

    const everything = await everyRowAsText();
    const left = [...values].filter((v) => everything.includes(v)).map((v) => `${v} in ${everything.split('\n').find((l) => l.includes(v))!.slice(0, 160)}`);
    expect(left).toEqual([]);
    expect(await amounts()).toEqual(before);
    expect((await auditLedger(k.t.app.infra.db)).differences).toEqual([]);
    expect(await sql("SELECT count(*)::int AS n FROM wxpay_notification WHERE resource ? 'payer_erased'")).toEqual([{ n: 2 }]);
    const [audit] = await sql("SELECT details FROM member_audit WHERE member_id = $1 AND action = 'erase'", [lin.memberId]);
    expect(audit.details.erased).toMatchObject({ store: { addresses: 1, orders: 1 }, payments: { intents: 1, notifications: 1 }, reviewRewards: { claims: 1, notifications: 1 }, officialAccount: { followers: 1 } });
    expect((await inject({ method: 'GET', url: '/api/mp/me', headers: lin.headers })).statusCode).toBe(401);
  });
});

describe('merges reach every module', () => {
  /** Rows still under a member id, in the tables a merge moves (the ledger and the audits keep theirs on purpose). */
  async function leftBehind(memberId: string): Promise<string[]> {
    const out: string[] = [];
    for (const [table, e] of declared()) {
      if (e.keptOnMerge.length > 0 || e.member.size === 0 || table === 'member') continue;
      for (const c of e.member) {
        const [{ n }] = await sql(`SELECT count(*)::int AS n FROM ${table} WHERE ${c} = $1`, [memberId]);
        if (n > 0) out.push(`${table}.${c}: ${n}`);
      }
    }
    return out;
  }

  it('admin merge: the merged member’s session keeps working as the survivor, every module’s rows move, unique keys are settled', async () => {
    const jia = await k.member('甲');
    const yi = await k.member('乙');
    expect((await inject({ method: 'POST', url: '/api/mp/bindings', headers: jia.headers, payload: { orderNo: JIA_ORDER.orderNo, phoneLast4: '7001' } })).statusCode).toBe(200);
    expect((await inject({ method: 'POST', url: '/api/mp/bindings', headers: yi.headers, payload: { orderNo: YI_ORDER.orderNo, phoneLast4: '7002' } })).statusCode).toBe(200);
    // 乙 checked in the six days before today; both checked in today.
    for (let d = 6; d >= 1; d--) await k.t.app.services.checkIns.checkIn({}, yi.memberId, new Date(Date.now() - d * 86_400_000));
    const today = { jia: (await inject({ method: 'POST', url: '/api/mp/check-ins', headers: jia.headers })).json(), yi: (await inject({ method: 'POST', url: '/api/mp/check-ins', headers: yi.headers })).json() };
    expect([today.jia.streak, today.yi.streak]).toEqual([1, 7]);
    expect((await inject({ method: 'POST', url: '/api/mp/check-ins/reminder', headers: yi.headers, payload: { accepted: true } })).statusCode).toBe(204);
    // Both have a default address (the first is the default) and the same line in the cart.
    const addr = async (m: StoreMember, detail: string) =>
      (await inject({ method: 'POST', url: '/api/mp/addresses', headers: { ...m.headers, 'idempotency-key': 'same-key-01' }, payload: { ...LIN_ADDRESS, detail } })).json();
    const jiaAddress = await addr(jia, '甲的地址 1 号');
    const yiAddress = await addr(yi, '乙的地址 2 号');
    expect([jiaAddress.isDefault, yiAddress.isDefault]).toEqual([true, true]);
    // Both redeemed a gift under the same key; 乙 also a coupon, an unpaid order, a claim.
    for (const m of [jia, yi]) await k.grant(m.memberId, 100);
    const redeem = (m: StoreMember, itemId: string, addressId?: string) =>
      inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: { ...m.headers, 'idempotency-key': 'redeem-key-1' }, payload: { itemId, addressId } });
    expect((await redeem(jia, items.gift, jiaAddress.id)).statusCode).toBe(200);
    expect((await redeem(yi, items.gift, yiAddress.id)).statusCode).toBe(200);
    expect((await inject({ method: 'POST', url: '/api/mp/mall/redemptions', headers: yi.headers, payload: { itemId: items.coupon } })).statusCode).toBe(200);
    const order = await inject({ method: 'POST', url: '/api/mp/orders', headers: { ...yi.headers, 'idempotency-key': 'order-key-01' }, payload: { items: [{ skuId, quantity: 1 }], addressId: yiAddress.id } });
    expect(order.statusCode).toBe(200);
    // The same line in both carts (after the checkout, which empties the cart of what it bought).
    for (const m of [jia, yi]) expect((await inject({ method: 'PUT', url: '/api/mp/cart/items', headers: m.headers, payload: { skuId, quantity: 60 } })).statusCode).toBe(200);
    const body = multipart({ orderNo: YI_ORDER.orderNo }, { screenshot: shotFile });
    expect((await inject({ method: 'POST', url: '/api/mp/review-claims', headers: { ...yi.headers, ...body.headers }, payload: body.payload })).statusCode).toBe(201);
    // 乙 set an avatar, 甲 did not: 甲 keeps 乙's.
    const yiAvatar = (await setAvatar(yi)).json().avatarUrl as string;
    const pointsBefore = (await k.balance(jia.memberId)) + (await k.balance(yi.memberId));

    const merged = await inject({ method: 'POST', url: `/api/admin/members/${jia.memberId}/merge`, headers: k.admin, payload: { otherId: yi.memberId, reason: '同一个人' } });
    expect(merged.statusCode).toBe(204);

    // 乙's session is 甲 now: it sees the merged data and keeps working.
    const me = (await inject({ method: 'GET', url: '/api/mp/me', headers: yi.headers })).json();
    expect(me).toMatchObject({ id: jia.memberId, pointsBalance: pointsBefore, avatarUrl: yiAvatar });
    expect((await inject({ method: 'GET', url: yiAvatar })).statusCode).toBe(200);
    const again = await inject({ method: 'POST', url: '/api/mp/check-ins', headers: yi.headers });
    expect([again.statusCode, again.json().code]).toEqual([409, 'already_checked_in']);
    const month = (await inject({ method: 'GET', url: '/api/mp/check-ins', headers: yi.headers })).json();
    expect(month).toMatchObject({ todayCheckedIn: true, streak: 7 });
    const addresses = (await inject({ method: 'GET', url: '/api/mp/addresses', headers: yi.headers })).json() as Array<{ detail: string; isDefault: boolean }>;
    expect(addresses.map((a) => [a.detail, a.isDefault]).sort()).toEqual([
      ['乙的地址 2 号', false],
      ['甲的地址 1 号', true],
    ]);
    expect((await inject({ method: 'GET', url: '/api/mp/orders', headers: jia.headers })).json().map((o: { id: string }) => o.id)).toEqual([order.json().order.id]);
    expect((await inject({ method: 'GET', url: '/api/mp/wallet', headers: jia.headers })).json().coupons).toHaveLength(1);
    expect((await inject({ method: 'GET', url: '/api/mp/review-claims', headers: jia.headers })).json().map((c: { orderNo: string }) => c.orderNo)).toEqual([YI_ORDER.orderNo]);
    expect((await inject({ method: 'GET', url: '/api/mp/cart', headers: jia.headers })).json().items.map((i: { quantity: number }) => i.quantity)).toEqual([99]);
    // 乙's session collects as before: the consent came with the merge.
    expect((await inject({ method: 'POST', url: '/api/mp/addresses', headers: yi.headers, payload: { ...LIN_ADDRESS, detail: '合并后 3 号' } })).statusCode).toBe(200);

    expect(await leftBehind(yi.memberId)).toEqual([]);
    // A day both checked in is one row that keeps both rewards; the days joined make one streak.
    const days = await sql("SELECT to_char(day, 'YYYY-MM-DD') AS day, streak, reward_points FROM check_in WHERE member_id = $1 ORDER BY day", [jia.memberId]);
    expect(days).toHaveLength(7);
    expect(days.at(-1)).toEqual({ day: shanghaiDay(), streak: 7, reward_points: today.jia.reward.points + today.yi.reward.points });
    expect(days.map((r: { streak: number }) => r.streak)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await sql('SELECT redeemed FROM mall_member_count WHERE member_id = $1 AND item_id = $2', [jia.memberId, items.gift])).toEqual([{ redeemed: 2 }]);
    expect(await sql('SELECT count(*)::int AS n FROM mall_redemption WHERE member_id = $1 AND idempotency_key LIKE $2', [jia.memberId, 'merged:%'])).toEqual([{ n: 1 }]);
    expect(await sql('SELECT remaining FROM check_in_reminder WHERE member_id = $1', [jia.memberId])).toEqual([{ remaining: 1 }]);
    expect((await auditLedger(k.t.app.infra.db)).differences).toEqual([]);
    const [audit] = await sql("SELECT details FROM member_audit WHERE member_id = $1 AND action = 'merge'", [jia.memberId]);
    expect(audit.details.moved).toMatchObject({ miniProgram: { sessions: 1 }, store: { addresses: 1, orders: 1, redemptions: 2, coupons: 1 }, checkIns: { days: 6, daysJoined: 1 }, reviewRewards: { claims: 1 } });
  });

  it('a unionid join (Official Account follower + mini-program member): the follower and the session move, the session checks in', async () => {
    const p = (await k.t.sandbox('POST', '/people', { nickname: '丙' })).body as { id: string; oaOpenid: string };
    // The follower binds an order by chat before the sweep: a member by openid.
    expect((await k.t.sandbox('POST', `/people/${p.id}/follow`, {})).status).toBe(200);
    await k.t.sandbox('POST', `/people/${p.id}/messages`, { text: CHAT_ORDER.orderNo });
    await k.t.sandbox('POST', `/people/${p.id}/messages`, { text: '7003' });
    const [{ member_id: byOpenid }] = await sql("SELECT member_id FROM member_identity WHERE kind = 'oa_openid' AND value = $1", [p.oaOpenid]);
    expect(await sql('SELECT member_id FROM sales_order WHERE order_no = $1', [CHAT_ORDER.orderNo])).toEqual([{ member_id: byOpenid }]);
    // Then opens the mini-program (a member by unionid), and leaves an address and a cart line there.
    const { code } = (await k.t.sandbox('POST', `/people/${p.id}/login-code`, {})).body;
    const login = await inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
    const session = { authorization: `Bearer ${login.json().token}` };
    const byUnionid = login.json().member.id as string;
    expect(byUnionid).not.toBe(byOpenid);
    expect((await inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: session, payload: { version: login.json().privacy.version } })).statusCode).toBe(204);
    expect((await inject({ method: 'POST', url: '/api/mp/addresses', headers: session, payload: { ...LIN_ADDRESS, detail: '丙的地址 5 号' } })).statusCode).toBe(200);
    expect((await inject({ method: 'POST', url: '/api/mp/check-ins/reminder', headers: session, payload: { accepted: true } })).statusCode).toBe(204);

    // The sweep learns the follower's unionid: the two are merged, the older (by openid) survives.
    expect(await sweep()).toBe(1);
    expect(await sql('SELECT status, merged_into FROM member WHERE id = $1', [byUnionid])).toEqual([{ status: 'merged', merged_into: byOpenid }]);
    expect(await leftBehind(byUnionid)).toEqual([]);
    expect(await sql('SELECT member_id FROM oa_follower WHERE openid = $1', [p.oaOpenid])).toEqual([{ member_id: byOpenid }]);

    const checkIn = await inject({ method: 'POST', url: '/api/mp/check-ins', headers: session });
    expect(checkIn.statusCode).toBe(200);
    expect(await sql('SELECT member_id FROM check_in WHERE member_id = ANY($1::uuid[])', [[byOpenid, byUnionid]])).toEqual([{ member_id: byOpenid }]);
    const me = (await inject({ method: 'GET', url: '/api/mp/me', headers: session })).json();
    expect(me).toMatchObject({ id: byOpenid, pointsBalance: 50 + checkIn.json().reward.points, taobaoBuyer: { ordersCount: 1 } });
    expect((await inject({ method: 'GET', url: '/api/mp/addresses', headers: session })).json().map((a: { detail: string }) => a.detail)).toEqual(['丙的地址 5 号']);
  });
});
