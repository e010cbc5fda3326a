import { randomBytes } from 'node:crypto';
import { buildTestApp, type TestApp } from '../helpers/app';
import { ordersFile, type OrderRow } from '../taobao/taobao-files';
import { auditLedger } from '../../server/modules/points/points-audit';
import { PG_RACE, watchConnections } from '../helpers/race';

const openid = () => `o${randomBytes(12).toString('base64url')}`;

/** Seller-center time text for a moment `days` ago (Asia/Shanghai wall clock). */
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000 + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

describe('members, identities and binding', () => {
  let t: TestApp;
  let auth: { authorization: string };
  let csAuth: { authorization: string };
  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);
  const importOrders = async (rows: OrderRow[], store = '雪球旗舰店') => {
    const s = t.app.services.taobaoImport;
    const id = await s.create({}, { source: 'cli', channelKind: 'tmall', storeName: store, ordersFile: ordersFile(rows) });
    return s.run({}, id);
  };

  beforeAll(async () => {
    t = await buildTestApp();
    auth = await t.ownerAuth();
    await t.app.inject({ method: 'POST', url: '/api/admin/staff', headers: auth, payload: { username: 'cs1', password: 'cs-password-123', role: 'customer_service' } });
    const login = await t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'cs1', password: 'cs-password-123' } });
    csAuth = { authorization: `Bearer ${login.json().token}` };
  });
  afterAll(async () => t.close());

  it('finds or creates one member per openid, and a unionid joins the Official Account and mini-program members', async () => {
    const { members, points } = t.app.services;
    const oa = openid();
    const mp = openid();
    const union = openid();
    const a = await members.findOrCreateByOpenid({}, { app: 'oa', openid: oa });
    expect(a.created).toBe(true);
    expect(await members.findOrCreateByOpenid({}, { app: 'oa', openid: oa })).toEqual({ memberId: a.memberId, created: false, mergedMemberId: undefined });
    const b = await members.findOrCreateByOpenid({}, { app: 'mp', openid: mp, unionid: union });
    expect(b.created).toBe(true);
    await points.earn({}, { memberId: b.memberId, amount: 40, idempotencyKey: `join:${b.memberId}`, reason: 'check-in' });
    // The Official Account now reports the unionid for its follower: the two are one person.
    const joined = await members.findOrCreateByOpenid({}, { app: 'oa', openid: oa, unionid: union });
    expect(joined).toEqual({ memberId: a.memberId, created: false, mergedMemberId: b.memberId });
    expect(await members.findByIdentity({}, 'mp_openid', mp)).toBe(a.memberId);
    expect(await points.balance({}, a.memberId)).toBe(40);
    const [old] = await q('SELECT status, merged_into FROM member WHERE id = $1', [b.memberId]);
    expect(old).toEqual({ status: 'merged', merged_into: a.memberId });
    expect(await members.resolve({}, b.memberId)).toBe(a.memberId);
    const audit = await q("SELECT action FROM member_audit WHERE member_id = $1 AND action = 'merge'", [a.memberId]);
    expect(audit).toHaveLength(1);
    // A new mini-program login carrying the unionid lands on the same member.
    const again = await members.findOrCreateByOpenid({}, { app: 'mp', openid: openid(), unionid: union });
    expect(again.memberId).toBe(a.memberId);
    await expect(members.findOrCreateByOpenid({}, { app: 'mp', openid: 'bad id!' })).rejects.toMatchObject({ code: 'invalid_openid' });
  });

  it(`creates exactly one member when the same openid arrives ten times at once: ${PG_RACE}`, async () => {
    const id = openid();
    const race = watchConnections(t.app);
    const results = await Promise.all(Array.from({ length: 10 }, () => t.app.services.members.findOrCreateByOpenid({}, { app: 'mp', openid: id })));
    race.done();
    expect(new Set(results.map((r) => r.memberId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const [n] = await q("SELECT count(*)::int AS n FROM member_identity WHERE kind = 'mp_openid' AND value = $1", [id]);
    expect(n.n).toBe(1);
  });

  it('binds a Taobao order by number and phone digits: all the buyer’s orders, points and tier follow', async () => {
    const { members, memberBinding, memberQuery } = t.app.services;
    await importOrders([
      { orderNo: '4000000000000000001', nick: 'x**9', phone: '139****1234', receiver: '李*', total: '1,500.00', paidAt: daysAgo(20) },
      { orderNo: '4000000000000000002', nick: 'x**9', phone: '139****1234', receiver: '李*', total: '800.00', status: '卖家已发货，等待买家确认', paidAt: daysAgo(10) },
      { orderNo: '4000000000000000003', nick: 'y**1', phone: '137****0000', receiver: '王*', total: '10.00' },
    ]);
    const m = (await members.findOrCreateByOpenid({}, { app: 'mp', openid: openid() })).memberId;
    await expect(memberBinding.bindTaobaoOrder({}, m, '4999999999999999999', '1234')).rejects.toMatchObject({ code: 'order_not_found', kind: 'not_found' });
    await expect(memberBinding.bindTaobaoOrder({}, m, '4000000000000000001', '9999')).rejects.toMatchObject({ code: 'phone_mismatch' });
    await expect(memberBinding.bindTaobaoOrder({}, m, 'abc', '1234')).rejects.toMatchObject({ code: 'invalid_order_no' });
    const bound = await memberBinding.bindTaobaoOrder({}, m, '4000000000000000001', '1234');
    expect(bound).toMatchObject({ memberId: m, ordersBound: 2, alreadyBound: false, buyerNick: 'x**9', channel: { kind: 'tmall', name: '雪球旗舰店' } });
    expect((await memberBinding.bindTaobaoOrder({}, m, '4000000000000000002', '1234')).alreadyBound).toBe(true);

    const card = await memberQuery.card({}, m);
    // 2,300 yuan in the last 12 months reaches VIP (2,000); only the completed order earns, at VIP's 1.5× multiplier.
    expect(card).toMatchObject({ tier: { code: 'vip', name: 'VIP会员', perks: { freeShipping: true } }, spend12mFen: 230000, lifecycle: 'active' });
    expect(card.points.balance).toBe(2250);
    expect(card.nextTier).toMatchObject({ code: 'supreme', spendNeededFen: 270000 });
    const changes = await q('SELECT from_tier, to_tier, direction FROM tier_change WHERE member_id = $1', [m]);
    expect(changes).toEqual([{ from_tier: 'regular', to_tier: 'vip', direction: 'up' }]);
    expect(await t.app.infra.queue.counts('members.tier-changed')).not.toEqual({});

    const other = (await members.findOrCreateByOpenid({}, { app: 'mp', openid: openid() })).memberId;
    await expect(memberBinding.bindTaobaoOrder({}, other, '4000000000000000002', '1234')).rejects.toMatchObject({ code: 'already_bound_to_other', kind: 'conflict' });
  });

  it('allows five wrong binding attempts an hour per member, then refuses', async () => {
    const { members, memberBinding } = t.app.services;
    const m = (await members.findOrCreateByOpenid({}, { app: 'mp', openid: openid() })).memberId;
    for (let i = 0; i < 5; i++) {
      await expect(memberBinding.bindTaobaoOrder({}, m, '4000000000000000003', '1111')).rejects.toMatchObject({ code: 'phone_mismatch' });
    }
    // Even the right digits are refused now: no more guesses this hour.
    await expect(memberBinding.bindTaobaoOrder({}, m, '4000000000000000003', '0000')).rejects.toMatchObject({ code: 'too_many_attempts', kind: 'rate_limited' });
  });

  it('earns points once per order however often it is re-imported, and reverses them on refund and close', async () => {
    const { members, memberBinding, points } = t.app.services;
    const rows: OrderRow[] = [
      { orderNo: '4100000000000000001', nick: 'r**1', phone: '136****5555', total: '200.00', paidAt: daysAgo(5) },
      { orderNo: '4100000000000000002', nick: 'r**1', phone: '136****5555', total: '100.00', paidAt: daysAgo(4) },
    ];
    await importOrders(rows);
    const m = (await members.findOrCreateByOpenid({}, { app: 'mp', openid: openid() })).memberId;
    await memberBinding.bindTaobaoOrder({}, m, '4100000000000000001', '5555');
    expect(await points.balance({}, m)).toBe(300);
    await importOrders(rows);
    await importOrders(rows);
    expect(await points.balance({}, m)).toBe(300);
    await importOrders([
      { ...rows[0]!, refund: '50.00' },
      { ...rows[1]!, status: '交易关闭', closeReason: '退款成功，交易关闭' },
    ]);
    expect(await points.balance({}, m)).toBe(150);
    const history = await points.history({}, m);
    expect(history.filter((h) => h.kind === 'reverse').map((h) => h.amount).sort()).toEqual([-100, -50]);
    await importOrders([{ ...rows[0]!, refund: '50.00' }]);
    expect(await points.balance({}, m)).toBe(150);
    expect((await auditLedger(t.app.infra.db)).differences).toEqual([]);
  });

  it('serves segments, masked detail and audited point adjustments to staff by role', async () => {
    const { members, memberBinding } = t.app.services;
    await importOrders([
      { orderNo: '4200000000000000001', nick: 's**1', phone: '135****4321', total: '60.00', paidAt: daysAgo(130), createdAt: daysAgo(130), address: '上海市 浦东新区 世纪大道 1号 200120' },
    ]);
    const m = (await members.findOrCreateByOpenid({}, { app: 'oa', openid: 'oSLEEPING0000000000000001' })).memberId;
    await memberBinding.bindTaobaoOrder({}, m, '4200000000000000001', '4321');
    const patch = await t.app.inject({ method: 'PATCH', url: `/api/admin/members/${m}`, headers: auth, payload: { tags: ['回访', '母婴'], gender: 'female', notes: '喜欢白色' } });
    expect(patch.statusCode).toBe(204);

    const list = await t.app.inject({ method: 'GET', url: '/api/admin/members?lifecycle=sleeping&bound=true&tag=回访&minSpendFen=5000&maxSpendFen=7000', headers: auth });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((i: { id: string }) => i.id)).toEqual([m]);
    expect(list.json().items[0]).toMatchObject({ lifecycle: 'sleeping', tier: 'regular', spend12mFen: 6000, rfm: { r: 3, f: 1, m: 1 } });
    const none = await t.app.inject({ method: 'GET', url: '/api/admin/members?lifecycle=active&tag=回访', headers: auth });
    expect(none.json().total).toBe(0);
    const bad = await t.app.inject({ method: 'GET', url: '/api/admin/members?lifecycle=dead', headers: auth });
    expect(bad.statusCode).toBe(400);

    const detail = await t.app.inject({ method: 'GET', url: `/api/admin/members/${m}`, headers: csAuth });
    expect(detail.statusCode).toBe(200);
    const d = detail.json();
    expect(d.identities.find((i: { kind: string }) => i.kind === 'oa_openid').value).toBe('oSLE****0001');
    expect(d.identities.find((i: { kind: string }) => i.kind === 'taobao_buyer')).toMatchObject({ value: 's**1', channel: { kind: 'tmall' } });
    expect(d.orders[0]).toMatchObject({ orderNo: '4200000000000000001', receiverPhone: '135****4321', receiverAddress: '上海市 浦东****' });
    expect(JSON.stringify(d)).not.toContain('世纪大道');
    expect(d).toMatchObject({ gender: 'female', tags: ['回访', '母婴'], notes: '喜欢白色' });

    const payload = { delta: 25, reason: '客服补偿', idempotencyKey: 'adjust-0001' };
    const forbidden = await t.app.inject({ method: 'POST', url: `/api/admin/members/${m}/points-adjustments`, headers: csAuth, payload });
    expect(forbidden.statusCode).toBe(403);
    const first = await t.app.inject({ method: 'POST', url: `/api/admin/members/${m}/points-adjustments`, headers: auth, payload });
    expect(first.statusCode).toBe(201);
    const replay = await t.app.inject({ method: 'POST', url: `/api/admin/members/${m}/points-adjustments`, headers: auth, payload });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ transactionId: first.json().transactionId, replayed: true });
    const changed = await t.app.inject({ method: 'POST', url: `/api/admin/members/${m}/points-adjustments`, headers: auth, payload: { ...payload, delta: 26 } });
    expect(changed.statusCode).toBe(409);
    expect(changed.json().code).toBe('idempotency_key_reused');
    const overdraw = await t.app.inject({ method: 'POST', url: `/api/admin/members/${m}/points-adjustments`, headers: auth, payload: { delta: -100000, reason: '扣减', idempotencyKey: 'adjust-0002' } });
    expect(overdraw.json().code).toBe('insufficient_points');
    const after = (await t.app.inject({ method: 'GET', url: `/api/admin/members/${m}`, headers: auth })).json();
    expect(after.points[0]).toMatchObject({ kind: 'adjust', amount: 25, reason: '客服补偿' });
    expect(after.audit.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(['profile_update', 'bind_taobao']));
    const [tx] = await q("SELECT actor FROM points_transaction WHERE kind = 'adjust' AND member_id = $1", [m]);
    expect(tx.actor).toBe('staff:owner');
  });

  it('merges two members through the API keeping every total', async () => {
    const { members, memberBinding, points } = t.app.services;
    await importOrders([
      { orderNo: '4300000000000000001', nick: 'm**1', phone: '133****1111', total: '30.00' },
      { orderNo: '4300000000000000002', nick: 'm**2', phone: '133****2222', total: '70.00' },
    ]);
    const a = (await members.findOrCreateByOpenid({}, { app: 'mp', openid: openid() })).memberId;
    const b = (await members.findOrCreateByOpenid({}, { app: 'oa', openid: openid() })).memberId;
    await memberBinding.bindTaobaoOrder({}, a, '4300000000000000001', '1111');
    await memberBinding.bindTaobaoOrder({}, b, '4300000000000000002', '2222');
    await points.earn({}, { memberId: b, amount: 5, idempotencyKey: `merge-extra:${b}`, reason: 'game' });
    const totals = async () =>
      (await q(`SELECT (SELECT sum(balance)::int FROM points_account WHERE kind = 'member') AS points,
                       (SELECT count(*)::int FROM sales_order WHERE member_id IS NOT NULL) AS orders,
                       (SELECT sum(spend_fen)::int FROM sales_order WHERE member_id IS NOT NULL) AS spend`))[0];
    const before = await totals();
    const res = await t.app.inject({ method: 'POST', url: `/api/admin/members/${a}/merge`, headers: auth, payload: { otherId: b, reason: '同一个人' } });
    expect(res.statusCode).toBe(204);
    expect(await totals()).toEqual(before);
    expect(await points.balance({}, a)).toBe(30 + 70 + 5);
    const card = await t.app.services.memberQuery.card({}, a);
    expect(card.spend12mFen).toBe(10000);
    expect((await auditLedger(t.app.infra.db)).differences).toEqual([]);
    const twice = await t.app.inject({ method: 'POST', url: `/api/admin/members/${a}/merge`, headers: auth, payload: { otherId: b, reason: 'again' } });
    expect(twice.json().code).toBe('member_inactive');
  });

  it('exports a member as JSON and erases them: identities gone, orders anonymised, totals and audit intact', async () => {
    const { members, memberBinding } = t.app.services;
    const rows: OrderRow[] = [{ orderNo: '4400000000000000001', nick: 'e**1', phone: '131****7777', receiver: '赵*', message: '放门口', total: '88.00' }];
    await importOrders(rows);
    const oid = openid();
    const m = (await members.findOrCreateByOpenid({}, { app: 'mp', openid: oid })).memberId;
    await memberBinding.bindTaobaoOrder({}, m, '4400000000000000001', '7777');
    const exp = await t.app.inject({ method: 'GET', url: `/api/admin/members/${m}/export`, headers: auth });
    expect(exp.statusCode).toBe(200);
    expect(exp.json()).toMatchObject({ member: { id: m }, orders: [{ order_no: '4400000000000000001', buyer_message: '放门口' }], points: { balance: 88 } });
    // The report's other columns go with the order, under their names.
    expect(exp.json().orders[0].report_columns).toMatchObject({ 运送方式: '快递', 物流单号: '773012345678901' });
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/members/${m}/export`, headers: csAuth })).statusCode).toBe(403);

    const spendBefore = (await q('SELECT sum(spend_fen)::int AS s FROM sales_order'))[0].s;
    const erase = await t.app.inject({ method: 'POST', url: `/api/admin/members/${m}/erase`, headers: auth, payload: { reason: '用户申请删除', confirm: true } });
    expect(erase.statusCode).toBe(200);
    expect(erase.json()).toEqual({ memberId: m, ordersAnonymised: 1, pointsForfeited: 88 });
    expect(await q('SELECT * FROM member_identity WHERE member_id = $1', [m])).toEqual([]);
    const [o] = await q("SELECT buyer_nick, receiver_name, buyer_message, phone_last4, spend_fen, member_id FROM sales_order WHERE order_no = '4400000000000000001'");
    expect(o).toEqual({ buyer_nick: null, receiver_name: null, buyer_message: null, phone_last4: null, spend_fen: '8800', member_id: m });
    expect((await q('SELECT sum(spend_fen)::int AS s FROM sales_order'))[0].s).toBe(spendBefore);
    expect((await auditLedger(t.app.infra.db)).differences).toEqual([]);
    const [audit] = await q("SELECT actor, details FROM member_audit WHERE member_id = $1 AND action = 'erase'", [m]);
    expect(audit).toMatchObject({ actor: 'staff:owner', details: { reason: '用户申请删除' } });
    // Importing the same export again does not bring the personal data back.
    await importOrders(rows);
    const [still] = await q("SELECT buyer_nick, receiver_name FROM sales_order WHERE order_no = '4400000000000000001'");
    expect(still).toEqual({ buyer_nick: null, receiver_name: null });
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/members/${m}`, headers: auth })).statusCode).toBe(404);
    // The same WeChat user coming back is a new member.
    expect((await members.findOrCreateByOpenid({}, { app: 'mp', openid: oid })).created).toBe(true);
  });

  it('re-tiers everyone when the owner changes the tier table', async () => {
    const tiers = (await t.app.inject({ method: 'GET', url: '/api/admin/tiers', headers: csAuth })).json();
    expect(tiers.map((x: { name: string }) => x.name)).toEqual(['普通会员', '高级会员', 'VIP会员', '至尊VIP会员']);
    const cheaper = tiers.map((x: { code: string; minSpend12mFen: number }) => (x.code === 'silver' ? { ...x, minSpend12mFen: 5000 } : x));
    expect((await t.app.inject({ method: 'PUT', url: '/api/admin/tiers', headers: csAuth, payload: cheaper })).statusCode).toBe(403);
    const res = await t.app.inject({ method: 'PUT', url: '/api/admin/tiers', headers: auth, payload: cheaper });
    expect(res.statusCode).toBe(200);
    const silver = (await t.app.inject({ method: 'GET', url: '/api/admin/members?tier=silver', headers: auth })).json();
    expect(silver.total).toBeGreaterThan(0);
    const bad = await t.app.inject({ method: 'PUT', url: '/api/admin/tiers', headers: auth, payload: cheaper.slice(1) });
    expect(bad.json().code).toBe('invalid_tiers');
  });
});
