import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';

/**
 * The console's side of the Official Account conversation, through the real app on a real port and the sandbox:
 * customer-service replies inside and outside WeChat's windows, and keyword replies from the admin routes to a
 * follower's chat.
 */
describe('conversation console: customer-service replies and keyword replies', () => {
  let t: SandboxTestApp;
  let owner: { authorization: string };
  let operator: { authorization: string };
  let cs: { authorization: string };
  let csId: string;

  type Person = { id: string; oaOpenid: string };
  const person = async (nickname: string): Promise<Person> => (await t.sandbox('POST', '/people', { nickname })).body;
  const follow = async (p: Person) => expect((await t.sandbox('POST', `/people/${p.id}/follow`, {})).status).toBe(200);
  const say = async (p: Person, text: string) => {
    const res = await t.sandbox('POST', `/people/${p.id}/messages`, { text });
    expect(res.status).toBe(200);
    return (res.body.reply?.Content as string | undefined) ?? null;
  };
  const advance = async (seconds: number) => expect((await t.sandbox('POST', '/clock', { advanceSeconds: seconds })).status).toBe(200);
  const customInbox = async (p: Person) =>
    ((await t.sandbox('GET', `/people/${p.id}/inbox`)).body.items as Array<{ channel: string; text: string }>)
      .filter((i) => i.channel === 'custom')
      .map((i) => i.text);
  const reply = (openid: string, text: unknown, headers: Record<string, string> = owner) =>
    t.app.inject({ method: 'POST', url: `/api/admin/messages/${encodeURIComponent(openid)}/reply`, headers, payload: { text } });
  const outMessages = async (openid: string) =>
    ((await t.app.inject({ method: 'GET', url: `/api/admin/messages?openid=${openid}`, headers: owner })).json().messages as Array<{
      direction: string;
      content: string;
      staffId: string | null;
    }>).filter((m) => m.direction === 'out');

  async function staffLogin(username: string, role: 'operator' | 'customer_service') {
    const created = await t.app.inject({ method: 'POST', url: '/api/admin/staff', headers: owner, payload: { username, password: `${username}-password-1`, role } });
    expect(created.statusCode).toBe(201);
    const login = await t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username, password: `${username}-password-1` } });
    expect(login.statusCode).toBe(200);
    return { auth: { authorization: `Bearer ${login.json().token}` }, id: login.json().staff.id as string };
  }

  beforeAll(async () => {
    t = await buildSandboxApp();
    owner = await t.ownerAuth();
    operator = (await staffLogin('op-1', 'operator')).auth;
    const c = await staffLogin('cs-1', 'customer_service');
    cs = c.auth;
    csId = c.id;
  });
  afterAll(async () => t.close());

  describe('a customer-service reply from the console', () => {
    it('is delivered inside the window and kept; the sixth in the 48-hour window is refused as out_of_window (45047)', async () => {
      const dana = await person('Dana');
      await follow(dana);
      expect(await say(dana, '快递到哪了？')).toBeNull();
      // The follow's own 1-minute window closes: only the message's 48 h / 5 window is left.
      await advance(61);

      const first = await reply(dana.oaOpenid, '您好，包裹今天派送', cs);
      expect(first.statusCode).toBe(201);
      expect(first.json()).toMatchObject({ openid: dana.oaOpenid, direction: 'out', msgType: 'text', content: '您好，包裹今天派送', staffId: csId });
      expect(await customInbox(dana)).toEqual(['您好，包裹今天派送']);
      // The route's roles: owner, operator and customer service may all answer.
      expect((await reply(dana.oaOpenid, '第二条', operator)).statusCode).toBe(201);
      for (const text of ['第三条', '第四条', '第五条']) expect((await reply(dana.oaOpenid, text)).statusCode).toBe(201);

      const sixth = await reply(dana.oaOpenid, '第六条', cs);
      expect(sixth.statusCode).toBe(409);
      expect(sixth.json()).toMatchObject({ code: 'out_of_window', details: { errcode: 45047 } });
      expect(sixth.json().message).toMatch(/5 replies/);
      expect(await customInbox(dana)).toEqual(['您好，包裹今天派送', '第二条', '第三条', '第四条', '第五条']);
      const kept = await outMessages(dana.oaOpenid);
      expect(kept.map((m) => m.content).reverse()).toEqual(['您好，包裹今天派送', '第二条', '第三条', '第四条', '第五条']);
      expect(kept.at(-1)!.staffId).toBe(csId);

      // A new message opens a new window.
      await say(dana, '好的，谢谢');
      expect((await reply(dana.oaOpenid, '不客气', cs)).statusCode).toBe(201);
      expect((await customInbox(dana)).at(-1)).toBe('不客气');
    });

    it('after 48 hours without a message it is refused as out_of_window (45015); nothing is sent or kept', async () => {
      const erin = await person('Erin');
      await follow(erin);
      await say(erin, '在吗');
      await advance(48 * 3600 + 1);
      const late = await reply(erin.oaOpenid, '抱歉久等了', cs);
      expect(late.statusCode).toBe(409);
      expect(late.json()).toMatchObject({ code: 'out_of_window', details: { errcode: 45015 } });
      expect(late.json().message).toMatch(/48 hours/);
      expect(await customInbox(erin)).toEqual([]);
      expect(await outMessages(erin.oaOpenid)).toEqual([]);
    });

    it('refuses an unknown openid, an empty or too long text, an unfollowed person and a caller without a session', async () => {
      const fay = await person('Fay');
      await follow(fay);
      await say(fay, '你好');

      const unknown = await reply('o-nobody-here', '你好', cs);
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().code).toBe('follower_not_found');
      for (const text of ['', '   ', 'x'.repeat(601), undefined]) {
        const bad = await reply(fay.oaOpenid, text, cs);
        expect(bad.statusCode).toBe(400);
        expect(bad.json().code).toBe('invalid_request');
      }
      const anonymous = await reply(fay.oaOpenid, '你好', {});
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().code).toBe('missing_token');
      const forged = await reply(fay.oaOpenid, '你好', { authorization: 'Bearer not-a-session' });
      expect(forged.statusCode).toBe(401);
      expect(await customInbox(fay)).toEqual([]);
      expect(await outMessages(fay.oaOpenid)).toEqual([]);

      await t.sandbox('POST', `/people/${fay.id}/unfollow`);
      const gone = await reply(fay.oaOpenid, '还在吗', cs);
      expect(gone.statusCode).toBe(409);
      expect(gone.json()).toMatchObject({ code: 'wechat_not_following', details: { errcode: 43004 } });
      expect(await outMessages(fay.oaOpenid)).toEqual([]);
    });
  });

  describe('keyword replies', () => {
    const add = (payload: Record<string, unknown>, headers: Record<string, string> = owner) => t.app.inject({ method: 'POST', url: '/api/admin/keyword-replies', headers, payload });
    const remove = (id: string, headers: Record<string, string> = owner) => t.app.inject({ method: 'DELETE', url: `/api/admin/keyword-replies/${id}`, headers });
    const list = async () => (await t.app.inject({ method: 'GET', url: '/api/admin/keyword-replies', headers: cs })).json() as Array<{ id: string; keyword: string; matchKind: string }>;

    it('validates every field with a stable code, refuses duplicates and callers who may not write', async () => {
      const before = await list();
      const bad: Array<[Record<string, unknown>, string]> = [
        [{ reply: '没有关键词' }, '/keyword'],
        [{ keyword: '   ', reply: '空白关键词' }, '/keyword'],
        [{ keyword: 'x'.repeat(31), reply: '太长' }, '/keyword'],
        [{ keyword: '退货', reply: '' }, '/reply'],
        [{ keyword: '退货', reply: 'x'.repeat(601) }, '/reply'],
        [{ keyword: '退货', reply: '正则', matchKind: 'regex' }, '/matchKind'],
        [{ keyword: '退货', reply: '负数', priority: -1 }, '/priority'],
        [{ keyword: '退货', reply: '太大', priority: 1001 }, '/priority'],
        [{ keyword: '退货', reply: '小数', priority: 1.5 }, '/priority'],
      ];
      for (const [payload, path] of bad) {
        const res = await add(payload);
        expect(res.statusCode).toBe(400);
        expect(res.json().code).toBe('invalid_request');
        expect(res.json().details.map((d: { path: string }) => d.path)).toContain(path);
      }

      const created = await add({ keyword: ' 退货 ', reply: '七天无理由退货，请在淘宝订单页申请。' });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ keyword: '退货', matchKind: 'contains', priority: 0 });
      const dup = await add({ keyword: '退货', reply: '另一个回复' });
      expect(dup.statusCode).toBe(409);
      expect(dup.json().code).toBe('keyword_exists');
      // The same word matched exactly is another rule.
      const exact = await add({ keyword: '退货', matchKind: 'exact', reply: '退货请看：订单页 → 申请售后。', priority: 5 });
      expect(exact.statusCode).toBe(201);

      const byCs = await add({ keyword: '客服', reply: '客服写的' }, cs);
      expect(byCs.statusCode).toBe(403);
      expect(byCs.json().code).toBe('role_forbidden');
      expect((await add({ keyword: '匿名', reply: '匿名写的' }, {})).statusCode).toBe(401);
      expect((await remove(created.json().id, cs)).statusCode).toBe(403);

      const after = await list();
      expect(after).toHaveLength(before.length + 2);
      expect(after.filter((k) => k.keyword === '退货').map((k) => k.matchKind)).toEqual(['exact', 'contains']); // priority first
      for (const k of after.filter((k) => k.keyword === '退货')) expect((await remove(k.id)).statusCode).toBe(204);
    });

    it('a follower’s text that matches gets the reply through the callback; a deleted keyword no longer answers', async () => {
      const gus = await person('Gus');
      await follow(gus);
      const shipping = (await add({ keyword: '发货', reply: '下单后 48 小时内发货。' })).json();
      const fast = (await add({ keyword: '加急', reply: '加急请联系客服。', priority: 10 })).json();
      const exact = (await add({ keyword: '发货', matchKind: 'exact', reply: '发货说明：顺丰包邮。' })).json();

      expect(await say(gus, '请问什么时候发货？')).toBe('下单后 48 小时内发货。');
      expect(await say(gus, '  发货 ')).toBe('发货说明：顺丰包邮。'); // an exact match wins over contains
      expect(await say(gus, '能加急发货吗')).toBe('加急请联系客服。'); // both contain: the higher priority wins
      expect(await say(gus, '今天天气不错')).toBeNull();

      expect((await remove(shipping.id)).statusCode).toBe(204);
      expect(await say(gus, '请问什么时候发货？')).toBeNull();
      expect(await say(gus, '发货')).toBe('发货说明：顺丰包邮。');
      expect((await remove(exact.id)).statusCode).toBe(204);
      expect((await remove(fast.id)).statusCode).toBe(204);
      expect(await say(gus, '发货')).toBeNull();
      expect(await say(gus, '能加急发货吗')).toBeNull();

      // Every message is still kept for customer service, answered or not.
      const inbound = (await t.app.inject({ method: 'GET', url: `/api/admin/messages?openid=${gus.oaOpenid}`, headers: cs })).json().messages;
      expect(inbound.filter((m: { direction: string }) => m.direction === 'in')).toHaveLength(8);

      const again = await remove(shipping.id);
      expect(again.statusCode).toBe(404);
      expect(again.json().code).toBe('keyword_reply_not_found');
      const notAnId = await remove('not-a-uuid');
      expect(notAnId.statusCode).toBe(400);
      expect(notAnId.json().code).toBe('invalid_request');
    });
  });
});
