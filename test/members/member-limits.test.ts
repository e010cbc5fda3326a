import { Client } from 'pg';
import { BIND_FAILURE_LIMIT } from '../../server/modules/members/member-binding.service';
import { bindReplies } from '../../server/modules/parcels/conversation.service';
import { PRIVACY_NOTICE_VERSION } from '../../server/modules/mp-session/mp-session.service';
import { parseWechatXml } from '../../server/wechat/xml';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { signedCallback, textMessage, wechatTestEnv } from '../helpers/wechat';
import { ordersFile } from '../taobao/taobao-files';

/**
 * A member's limits belong to the member, not to a session or a channel: through the real app on a real port, members
 * logged in from sandbox login codes (one person logging in again is one member with another session).
 */
describe('member limits', () => {
  let t: SandboxTestApp;
  const env = wechatTestEnv();
  const MP_ORDER = '2036455525271597001';
  const OA_ORDER = '2036455525271597002';
  const OTHER_ORDER = '2036455525271597003';
  type Person = { id: string; oaOpenid: string; unionid: string };

  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);
  const person = async () => (await t.sandbox('POST', '/people', {})).body as Person;
  let logins = 0;
  async function session(p: Person): Promise<{ memberId: string; auth: { authorization: string } }> {
    const { code } = (await t.sandbox('POST', `/people/${p.id}/login-code`, {})).body;
    // Many logins in a minute: each from an address of its own, past the login's per-address budget.
    const remoteAddress = `10.7.${Math.floor(++logins / 200)}.${logins % 200}`;
    const res = await t.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code }, remoteAddress });
    expect(res.statusCode).toBe(200);
    const auth = { authorization: `Bearer ${res.json().token}` };
    // Binding digits and screenshots are collected only once the privacy notice is accepted.
    const accepted = await t.app.inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: auth, payload: { version: PRIVACY_NOTICE_VERSION } });
    expect(accepted.statusCode).toBe(204);
    return { memberId: res.json().member.id, auth };
  }
  async function sessionsOfOneMember(n: number, p?: Person) {
    p ??= await person();
    const all = [];
    for (let i = 0; i < n; i++) all.push(await session(p!));
    expect(new Set(all.map((s) => s.memberId)).size).toBe(1);
    return { memberId: all[0]!.memberId, auths: all.map((s) => s.auth) };
  }
  const tally = (res: Array<{ statusCode: number; json(): { code?: string } }>) => {
    const out: Record<string, number> = {};
    for (const r of res) out[`${r.statusCode} ${r.json().code}`] = (out[`${r.statusCode} ${r.json().code}`] ?? 0) + 1;
    return out;
  };
  const until = async (cond: () => Promise<boolean>) => {
    while (!(await cond())) await new Promise((r) => setTimeout(r, 10));
  };
  const orderMember = async (orderNo: string) => (await q('SELECT member_id FROM sales_order WHERE order_no = $1', [orderNo]))[0].member_id as string | null;

  /** A text from `openid` as WeChat posts it (safe mode), answering the passive reply's text. */
  const chat = async (openid: string, text: string) => {
    const req = signedCallback(env, textMessage(openid, text));
    const res = await t.app.inject({ method: 'POST', url: req.url, payload: req.payload, headers: { 'content-type': 'text/xml' } });
    expect(res.statusCode).toBe(200);
    if (!res.body || res.body === 'success') return undefined;
    return parseWechatXml(req.crypto.decrypt(parseWechatXml(res.body).Encrypt as string).message).Content as string;
  };

  beforeAll(async () => {
    // Room in the pool for every guess that waits at the order lookup in the race below.
    t = await buildSandboxApp({ ...env, DATABASE_POOL_SIZE: '30' });
    const file = ordersFile([
      { orderNo: MP_ORDER, nick: 'm**p', phone: "'138****4321", total: '49.00', status: '交易成功' },
      { orderNo: OA_ORDER, nick: 'o**a', phone: "'139****8765", total: '59.00', status: '交易成功' },
      { orderNo: OTHER_ORDER, nick: 'x**y', phone: "'137****1111", total: '69.00', status: '交易成功' },
    ]);
    const imp = t.app.services.taobaoImport;
    await imp.run({}, await imp.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: file }));
  });
  afterAll(async () => t.close());

  it('race (true concurrency in PostgreSQL + Redis mode): 100 wrong binds fired together from 5 sessions of one member, then the right digits in the chat while they are judged: 5 judged, nothing bound', async () => {
    const p = await person();
    const { memberId, auths } = await sessionsOfOneMember(5, p);
    // The same person follows the Official Account: one member (by unionid) with a chat beside the sessions.
    expect((await t.app.services.members.findOrCreateByOpenid({}, { app: 'oa', openid: p.oaOpenid, unionid: p.unionid })).memberId).toBe(memberId);
    expect(await chat(p.oaOpenid, MP_ORDER)).toBe(bindReplies.askLast4(MP_ORDER));

    const bind = (i: number) =>
      t.app.inject({ method: 'POST', url: '/api/mp/bindings', headers: auths[i % 5]!, payload: { orderNo: MP_ORDER, phoneLast4: String(1000 + i) } });
    let res: Awaited<ReturnType<typeof bind>>[];
    let right: string | undefined;
    if (t.database.server) {
      // The order lookup is held behind a table lock, so the wrong guesses are in flight, counted or not, when the
      // right digits arrive; the lock goes once those are answered or wait at the lookup themselves.
      const locker = new Client({ connectionString: t.database.url });
      await locker.connect();
      const waiting = async () =>
        Number((await locker.query("SELECT count(*) AS n FROM pg_locks WHERE relation = 'sales_order'::regclass AND NOT granted")).rows[0].n);
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE sales_order IN ACCESS EXCLUSIVE MODE');
        let settled = 0;
        const wrong = Promise.all(Array.from({ length: 100 }, (_, i) => bind(i).finally(() => settled++)));
        // Every wrong guess is answered or waits at the lookup; then the right digits come.
        await until(async () => settled + (await waiting()) === 100);
        const before = await waiting();
        let answered = false;
        const rightDigits = chat(p.oaOpenid, '4321').finally(() => (answered = true));
        await until(async () => answered || (await waiting()) > before);
        await locker.query('COMMIT');
        [res, right] = await Promise.all([wrong, rightDigits]);
      } finally {
        await locker.end();
      }
    } else {
      // Embedded: one database session serves the requests in turn, so this is no true race there; the right digits
      // come once the wrong guesses fired together are answered (which of them runs first is the event loop's choice).
      res = await Promise.all(Array.from({ length: 100 }, (_, i) => bind(i)));
      right = await chat(p.oaOpenid, '4321');
    }
    expect(right).toBe(bindReplies.too_many_attempts);
    // 20 pass the member's budget on the endpoint (whichever session sent them); 5 of those are judged.
    expect(tally(res)).toEqual({ '400 phone_mismatch': BIND_FAILURE_LIMIT, '429 too_many_attempts': 20 - BIND_FAILURE_LIMIT, '429 rate_limited': 80 });
    expect(await orderMember(MP_ORDER)).toBeNull();
    await expect(t.app.services.memberBinding.bindTaobaoOrder({}, memberId, MP_ORDER, '4321')).rejects.toMatchObject({ code: 'too_many_attempts' });
    expect(await orderMember(MP_ORDER)).toBeNull();
  });

  it('30 wrong digits posted together in the Official Account chat get exactly 5 answers on the digits, then the right digits are refused', async () => {
    const openid = 'o-chat-racer-0000000000001';
    expect(await chat(openid, OA_ORDER)).toBe(bindReplies.askLast4(OA_ORDER));
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(openid, String(2000 + i))));
    expect(replies.filter((r) => r === bindReplies.phone_mismatch)).toHaveLength(BIND_FAILURE_LIMIT);
    // The others are refused unjudged; once refused, the pending order is forgotten and later digits are plain chat.
    expect(replies.filter((r) => r === bindReplies.too_many_attempts).length).toBeGreaterThan(0);
    expect(replies.filter((r) => r !== bindReplies.phone_mismatch && r !== bindReplies.too_many_attempts && r !== undefined)).toEqual([]);
    expect(await orderMember(OA_ORDER)).toBeNull();

    expect(await chat(openid, OA_ORDER)).toBe(bindReplies.askLast4(OA_ORDER));
    expect(await chat(openid, '8765')).toBe(bindReplies.too_many_attempts);
    expect(await orderMember(OA_ORDER)).toBeNull();
  });

  it('a right guess is not a wrong one: binding after four wrong tries leaves the member one more', async () => {
    const { memberId, auths } = await sessionsOfOneMember(1);
    const bind = (orderNo: string, phoneLast4: string) => t.app.inject({ method: 'POST', url: '/api/mp/bindings', headers: auths[0]!, payload: { orderNo, phoneLast4 } });
    for (let i = 0; i < BIND_FAILURE_LIMIT - 1; i++) expect((await bind(OTHER_ORDER, String(3000 + i))).json().code).toBe('phone_mismatch');
    expect((await bind(OTHER_ORDER, '1111')).statusCode).toBe(200);
    expect(await orderMember(OTHER_ORDER)).toBe(memberId);
    expect((await bind(MP_ORDER, '0000')).json().code).toBe('phone_mismatch');
    expect((await bind(MP_ORDER, '0001')).json().code).toBe('too_many_attempts');
  });

  // Each member endpoint with its budget a minute; the bodies are refused by validation or the handler, which is
  // enough here: the budget is drawn before the body is looked at.
  const endpoints: Array<[string, number, (ids: { order: string }) => { method: 'POST'; url: string; payload: object }]> = [
    ['check-in', 20, () => ({ method: 'POST', url: '/api/mp/check-ins', payload: {} })],
    ['make-up check-in', 20, () => ({ method: 'POST', url: '/api/mp/check-ins/make-up', payload: { date: 'not-a-day' } })],
    ['binding', 20, () => ({ method: 'POST', url: '/api/mp/bindings', payload: { orderNo: '1', phoneLast4: 'x' } })],
    ['review claim', 10, () => ({ method: 'POST', url: '/api/mp/review-claims', payload: {} })],
    ['redemption', 20, () => ({ method: 'POST', url: '/api/mp/mall/redemptions', payload: {} })],
    ['checkout', 10, () => ({ method: 'POST', url: '/api/mp/orders', payload: {} })],
    ['payment', 20, (ids) => ({ method: 'POST', url: `/api/mp/orders/${ids.order}/pay`, payload: {} })],
  ];

  it.each(endpoints)('three sessions of one member share one %s budget (%i a minute); another member has their own', async (_name, max, call) => {
    const { auths } = await sessionsOfOneMember(3);
    const req = call({ order: '00000000-0000-4000-8000-000000000000' });
    const res = await Promise.all(Array.from({ length: max + 6 }, (_, i) => t.app.inject({ ...req, headers: auths[i % 3]! })));
    const limited = res.filter((r) => r.statusCode === 429);
    expect(limited).toHaveLength(6);
    expect(limited.every((r) => r.json().code === 'rate_limited' && Number(r.headers['retry-after']) > 0)).toBe(true);

    const other = (await sessionsOfOneMember(1)).auths[0]!;
    expect((await t.app.inject({ ...req, headers: other })).statusCode).not.toBe(429);
  });
});
