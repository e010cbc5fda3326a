import { buildSandboxApp, eventually, type SandboxTestApp } from '../helpers/sandbox';
import type { InboundMessage } from '../../server/wechat/inbound';
import { WechatApiError } from '../../server/wechat/api-errors';
import { STORE_RACE } from '../helpers/race';

/** The sandbox mounted in the real app: people act, the sandbox posts signed encrypted callbacks over HTTP. */
describe('sandbox journeys through the real app', () => {
  let t: SandboxTestApp;
  const received: InboundMessage[] = [];

  beforeAll(async () => {
    // The bare boundary: these tests register their own handlers instead of the product's.
    t = await buildSandboxApp({}, { productHandlers: false });
    const inbound = t.app.services.wechat.inbound;
    inbound.onEvent('subscribe', async (msg) => {
      received.push(msg);
      // Slow enough that concurrent redeliveries overlap the first one.
      await new Promise((r) => setTimeout(r, 50));
      return { type: 'text', content: `欢迎！扫码来源 ${msg.scene ?? '—'}` };
    });
    inbound.onEvent('SCAN', async (msg) => {
      received.push(msg);
      return { type: 'text', content: `欢迎回来 ${msg.scene}` };
    });
    inbound.onEvent('unsubscribe', async (msg) => void received.push(msg));
    inbound.onEvent('CLICK', async (msg) => void received.push(msg));
    inbound.onEvent('TEMPLATESENDJOBFINISH', async (msg) => void received.push(msg));
    inbound.onEvent('MASSSENDJOBFINISH', async (msg) => void received.push(msg));
    inbound.onMessage('text', async (msg) => {
      received.push(msg);
      return { type: 'text', content: `收到：${msg.content}` };
    });
  });
  afterAll(async () => t.close());

  const newPerson = async (nickname?: string) => (await t.sandbox('POST', '/people', { nickname })).body as { id: string; oaOpenid: string; mpOpenid: string; unionid: string };

  it('a person scans a QR code the server created: one verified subscribe even when delivered three times', async () => {
    const qr = await t.app.services.wechat.oa.createQrCode({ scene: 'batch-2024-11' });
    expect(qr.ticket).toBeTruthy();
    expect(qr.imageUrl).toContain('/sandbox/cgi-bin/showqrcode?ticket=');
    const listed = (await t.sandbox('GET', '/qrcodes')).body.qrcodes;
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ ticket: qr.ticket, scene: 'batch-2024-11', actionName: 'QR_STR_SCENE' })]));

    const alice = await newPerson('Alice');
    const scan = await t.sandbox('POST', `/people/${alice.id}/scan`, { ticket: qr.ticket, deliveries: 3 });
    expect(scan.status).toBe(200);
    expect(scan.body.event).toBe('subscribe');
    expect(scan.body.eventKey).toBe('qrscene_batch-2024-11');
    expect(scan.body.deliveries.map((d: { status: number }) => d.status)).toEqual([200, 200, 200]);
    expect(scan.body.reply).toMatchObject({ MsgType: 'text', Content: '欢迎！扫码来源 batch-2024-11', ToUserName: alice.oaOpenid });

    const subs = received.filter((m) => m.type === 'subscribe' && m.openid === alice.oaOpenid);
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({ kind: 'event', scene: 'batch-2024-11', ticket: qr.ticket });
    const inbox = (await t.sandbox('GET', `/people/${alice.id}/inbox`)).body.items;
    expect(inbox.filter((i: { channel: string }) => i.channel === 'reply')).toHaveLength(1);

    // Scanning again as a follower is SCAN with the bare scene.
    const again = await t.sandbox('POST', `/people/${alice.id}/scan`, { ticket: qr.ticket });
    expect(again.body).toMatchObject({ event: 'SCAN', eventKey: 'batch-2024-11', reply: { Content: '欢迎回来 batch-2024-11' } });

    const image = await fetch(qr.imageUrl);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
  });

  it(`three concurrent deliveries of one subscribe are still processed once: ${STORE_RACE}`, async () => {
    const qr = (await t.sandbox('POST', '/qrcodes', { scene: 'race' })).body;
    const bob = await newPerson('Bob');
    const scan = await t.sandbox('POST', `/people/${bob.id}/scan`, { ticket: qr.ticket, deliveries: 3, concurrent: true });
    expect(scan.body.deliveries.map((d: { status: number }) => d.status)).toEqual([200, 200, 200]);
    expect(received.filter((m) => m.type === 'subscribe' && m.openid === bob.oaOpenid)).toHaveLength(1);
  });

  it('a text message comes back with the decrypted passive reply; its 64-bit MsgId arrives as a string', async () => {
    const p = await newPerson();
    await t.sandbox('POST', `/people/${p.id}/follow`, {});
    const res = await t.sandbox('POST', `/people/${p.id}/messages`, { text: '1234567890123456789', deliveries: 2 });
    expect(res.body.reply).toMatchObject({ Content: '收到：1234567890123456789' });
    const msgs = received.filter((m) => m.kind === 'message' && m.openid === p.oaOpenid);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.msgId).toBe(res.body.msgId);
    expect(BigInt(res.body.msgId) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('customer-service messages follow WeChat’s windows: 3 after a follow, 45047 beyond, 45015 after a minute, 43004 unfollowed', async () => {
    const oa = t.app.services.wechat.oa;
    const p = await newPerson();
    await t.sandbox('POST', `/people/${p.id}/follow`, {});
    for (let i = 0; i < 3; i++) await oa.sendCustomText(p.oaOpenid, `第${i + 1}条`);
    await expect(oa.sendCustomText(p.oaOpenid, 'too many')).rejects.toMatchObject({ code: 'wechat_out_of_window', errcode: 45047 });
    // A message from the person opens 48 h for 5 more.
    await t.sandbox('POST', `/people/${p.id}/messages`, { text: 'hi' });
    await oa.sendCustomText(p.oaOpenid, 'answer');
    const inbox = (await t.sandbox('GET', `/people/${p.id}/inbox`)).body.items;
    expect(inbox.filter((i: { channel: string }) => i.channel === 'custom').map((i: { text: string }) => i.text)).toEqual(['第1条', '第2条', '第3条', 'answer']);

    const q = await newPerson();
    await t.sandbox('POST', `/people/${q.id}/follow`, {});
    await t.sandbox('POST', '/clock', { advanceSeconds: 61 });
    await expect(oa.sendCustomText(q.oaOpenid, 'late')).rejects.toMatchObject({ code: 'wechat_out_of_window', errcode: 45015 });
    await t.sandbox('POST', `/people/${q.id}/unfollow`);
    const err = await oa.sendCustomText(q.oaOpenid, 'gone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatApiError);
    expect(err).toMatchObject({ wechatKind: 'not_following', errcode: 43004, statusCode: 409 });
    expect(received.some((m) => m.type === 'unsubscribe' && m.openid === q.oaOpenid && m.eventKey === undefined)).toBe(true);
  });

  it('template messages reach the inbox and TEMPLATESENDJOBFINISH comes back to the callback', async () => {
    const oa = t.app.services.wechat.oa;
    const p = await newPerson();
    await t.sandbox('POST', `/people/${p.id}/follow`, {});
    await oa.sendTemplate({ touser: p.oaOpenid, templateId: 'TPL_ORDER', data: { thing1: { value: '订单已绑定' } }, clientMsgId: 'c-1' });
    const inbox = (await t.sandbox('GET', `/people/${p.id}/inbox`)).body.items;
    expect(inbox.at(-1)).toMatchObject({ channel: 'template', text: 'thing1: 订单已绑定' });
    const finish = await eventually(() => received.find((m) => m.type === 'TEMPLATESENDJOBFINISH' && m.openid === p.oaOpenid));
    expect(finish.fields.Status).toBe('success');
    expect(typeof finish.msgId).toBe('string');
    await expect(oa.sendTemplate({ touser: 'o-nobody', templateId: 'TPL', data: {} })).rejects.toMatchObject({ errcode: 40003, code: 'wechat_invalid_request' });
  });

  it('mass send: by list and by tag, MASSSENDJOBFINISH back, 45028 when the quota is spent, 45065 on a reused clientmsgid', async () => {
    const oa = t.app.services.wechat.oa;
    const a = await newPerson();
    const b = await newPerson();
    for (const p of [a, b]) await t.sandbox('POST', `/people/${p.id}/follow`, {});
    const tag = await oa.createTag('复购会员');
    await oa.tagFollowers([a.oaOpenid, b.oaOpenid], tag.id);
    expect(await oa.followerTags(a.oaOpenid)).toEqual([tag.id]);
    expect((await oa.listTags()).find((x) => x.id === tag.id)?.count).toBe(2);

    const sent = await oa.massSendText({ tagId: tag.id }, '双十一会员价', 'mass-1');
    expect(sent.msgId).toBeDefined();
    const finish = await eventually(() => received.find((m) => m.type === 'MASSSENDJOBFINISH'));
    expect(finish.fields).toMatchObject({ Status: 'send success', TotalCount: '2', SentCount: '2' });
    await expect(oa.massSendText({ openids: [a.oaOpenid, b.oaOpenid] }, 'again', 'mass-1')).rejects.toMatchObject({ errcode: 45065 });
    await expect(oa.massSendText({ openids: [a.oaOpenid] }, 'one')).rejects.toMatchObject({ code: 'mass_list_size' });

    await t.sandbox('PUT', '/quotas/mass_send', { limit: 1 });
    const err = await oa.massSendText({ openids: [a.oaOpenid, b.oaOpenid] }, 'over quota').catch((e: unknown) => e);
    expect(err).toMatchObject({ wechatKind: 'quota', errcode: 45028, code: 'wechat_quota', statusCode: 429 });
    await t.sandbox('PUT', '/quotas/mass_send', { limit: 100 });
  });

  it('tags and followers: batchtagging takes at most 50, user/info carries the QR scene and unionid', async () => {
    const oa = t.app.services.wechat.oa;
    const qr = await oa.createQrCode({ scene: 'info-scene' });
    const p = await newPerson();
    await t.sandbox('POST', `/people/${p.id}/scan`, { ticket: qr.ticket });
    const info = await oa.getFollower(p.oaOpenid);
    expect(info).toMatchObject({ subscribe: 1, openid: p.oaOpenid, unionid: p.unionid, subscribe_scene: 'ADD_SCENE_QR_CODE', qr_scene_str: 'info-scene' });
    const followers = await oa.listFollowers();
    expect(followers.openids).toContain(p.oaOpenid);

    const token = await oa.token.get();
    const tag = await oa.createTag('fifty-one');
    const res = await fetch(`${t.baseUrl}/sandbox/cgi-bin/tags/members/batchtagging?access_token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openid_list: Array.from({ length: 51 }, () => p.oaOpenid), tagid: tag.id }),
    });
    expect(await res.json()).toMatchObject({ errcode: 40032 });
    await expect(oa.createTag('fifty-one')).rejects.toMatchObject({ errcode: 45157 });
  });

  it('QR limits as documented: 30 days at most, scene_str 1–64, a missing scene wrapper gives qrscene_0', async () => {
    const oa = t.app.services.wechat.oa;
    await expect(oa.createQrCode({ scene: 'x', expireSeconds: 2_592_001 })).rejects.toMatchObject({ errcode: 40009 });
    await expect(oa.createQrCode({ scene: 'x'.repeat(65) })).rejects.toMatchObject({ errcode: 40053 });
    await expect(oa.createQrCode({ scene: 0, permanent: true })).rejects.toMatchObject({ errcode: 40053 });
    const permanent = await oa.createQrCode({ scene: 42, permanent: true });
    expect(permanent.expireSeconds).toBeUndefined();

    const token = await oa.token.get();
    const bare = (await (
      await fetch(`${t.baseUrl}/sandbox/cgi-bin/qrcode/create?access_token=${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action_name: 'QR_STR_SCENE', expire_seconds: 600, action_info: { scene_str: 'forgot-the-wrapper' } }),
      })
    ).json()) as { ticket: string };
    const p = await newPerson();
    const scan = await t.sandbox('POST', `/people/${p.id}/scan`, { ticket: bare.ticket });
    expect(scan.body.eventKey).toBe('qrscene_0');

    await t.sandbox('PUT', '/quotas/qrcode_create', { limit: 0 });
    await expect(oa.createQrCode({ scene: 'quota' })).rejects.toMatchObject({ errcode: 45009, wechatKind: 'quota' });
    await t.sandbox('PUT', '/quotas/qrcode_create', { limit: 100_000 });

    const short = (await t.sandbox('POST', '/qrcodes', { scene: 'short', expireSeconds: 10 })).body;
    await t.sandbox('POST', '/clock', { advanceSeconds: 11 });
    expect((await t.sandbox('POST', `/people/${p.id}/scan`, { ticket: short.ticket })).body.code).toBe('qrcode_expired');
    expect((await t.sandbox('POST', `/people/${p.id}/scan`, { ticket: 'nope' })).status).toBe(404);
  });

  it('mini-program: a login code works once, unionid joins the two openids; subscription needs acceptance; wxacode is a PNG', async () => {
    const mp = t.app.services.wechat.mp!;
    const p = await newPerson();
    const { code } = (await t.sandbox('POST', `/people/${p.id}/login-code`)).body;
    const session = await mp.code2session(code);
    expect(session).toMatchObject({ openid: p.mpOpenid, unionid: p.unionid });
    expect(session.sessionKey).toBeTruthy();
    await expect(mp.code2session(code)).rejects.toMatchObject({ errcode: 40163, wechatKind: 'invalid_code' });
    await expect(mp.code2session('made-up')).rejects.toMatchObject({ errcode: 40029 });

    const notice = { touser: p.mpOpenid, templateId: 'TPL_REWARD', page: 'pages/reward/index', data: { thing1: { value: '返现已到账' } } };
    await expect(mp.sendSubscribeMessage(notice)).rejects.toMatchObject({ errcode: 43101, wechatKind: 'user_refused', statusCode: 403 });
    await t.sandbox('POST', `/people/${p.id}/subscriptions`, { templateId: 'TPL_REWARD', app: 'mp' });
    await mp.sendSubscribeMessage(notice);
    await expect(mp.sendSubscribeMessage(notice)).rejects.toMatchObject({ errcode: 43101 });
    const inbox = (await t.sandbox('GET', `/people/${p.id}/inbox`)).body.items;
    expect(inbox.filter((i: { channel: string }) => i.channel === 'mp_subscribe')).toHaveLength(1);

    const png = await mp.unlimitedWxaCode('gift=123', 'pages/gift/index');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    await expect(mp.unlimitedWxaCode('x'.repeat(33))).rejects.toMatchObject({ errcode: 40169 });
  });

  it('menu: created through the API (at most 3 buttons), a click reaches the server as CLICK and opens a 1-minute window', async () => {
    const oa = t.app.services.wechat.oa;
    const menu = { button: [{ type: 'click', name: '会员中心', key: 'MEMBER_CENTER' }, { type: 'miniprogram', name: '绑定订单', appid: 'wx', pagepath: 'pages/bind/index', url: 'https://example.com' }] };
    await oa.createMenu(menu);
    expect((await t.sandbox('GET', '/stats')).body.menu).toEqual(menu);
    await expect(oa.createMenu({ button: [{}, {}, {}, {}] })).rejects.toMatchObject({ errcode: 40016 });

    const p = await newPerson();
    expect((await t.sandbox('POST', `/people/${p.id}/click`, { key: 'MEMBER_CENTER' })).status).toBe(409); // not following: no menu
    await t.sandbox('POST', `/people/${p.id}/follow`, {});
    const click = await t.sandbox('POST', `/people/${p.id}/click`, { key: 'MEMBER_CENTER', deliveries: 2 });
    expect(click.body.deliveries.map((d: { status: number }) => d.status)).toEqual([200, 200]);
    expect(received.filter((m) => m.type === 'CLICK' && m.openid === p.oaOpenid && m.eventKey === 'MEMBER_CENTER')).toHaveLength(1);

    const tag = await oa.createTag('点过菜单');
    await oa.tagFollowers([p.oaOpenid], tag.id);
    await oa.untagFollowers([p.oaOpenid], tag.id);
    expect(await oa.followerTags(p.oaOpenid)).toEqual([]);
  });

  it('a person pays a JSAPI prepay and confirms a transfer bill through the WeChat Pay sandbox, each ending in a verified notification', async () => {
    const p = await newPerson();
    const wxpay = t.app.services.wxpay!;
    const appid = t.app.services.wechat.credentials.mp?.appid ?? t.app.services.wechat.credentials.appid;
    const events: string[] = [];
    // Handlers are registered once per name; the test's names are its own.
    t.app.services.wxpayNotifications.on(['TRANSACTION.SUCCESS'], async (_ctx, r) => void events.push(`paid:${r.out_trade_no}`), { name: 'journey-pay' });
    t.app.services.wxpayNotifications.on(['MCHTRANSFER.BILL.FINISHED'], async (_ctx, r) => void events.push(`transfer:${r.out_bill_no}:${r.state}`), {
      name: 'journey-transfer',
    });

    const { prepayId } = await wxpay.jsapiPrepay({ appid, description: '测试商品', outTradeNo: 'JOURNEY000001', amountFen: 990, payerOpenid: p.mpOpenid });
    const paid = await t.sandbox('POST', `/people/${p.id}/pay`, { prepayId });
    expect(paid.status).toBe(200);
    expect(paid.body.transactionId).toMatch(/^\d+$/);
    await eventually(() => (events.includes('paid:JOURNEY000001') ? true : undefined));

    const bill = await wxpay.createTransferBill({ appid, outBillNo: 'JOURNEYBILL01', openid: p.mpOpenid, amountFen: 500, remark: '晒单评价有礼' });
    expect(bill.state).toBe('WAIT_USER_CONFIRM');
    const confirmed = await t.sandbox('POST', `/people/${p.id}/confirm-transfer`, { packageInfo: bill.package_info });
    expect(confirmed.status).toBe(200);
    await eventually(() => (events.includes('transfer:JOURNEYBILL01:SUCCESS') ? true : undefined));

    // Someone else cannot pay this person's order or confirm their transfer.
    const other = await newPerson();
    const { prepayId: second } = await wxpay.jsapiPrepay({ appid, description: '测试商品', outTradeNo: 'JOURNEY000002', amountFen: 100, payerOpenid: p.mpOpenid });
    const foreign = await t.sandbox('POST', `/people/${other.id}/pay`, { prepayId: second });
    expect([foreign.status, foreign.body.code]).toEqual([403, 'sandbox_pay_wrong_payer']);
  });

  it('the control API is in the OpenAPI document; the sandbox APIs refuse a bad token like WeChat', async () => {
    const doc = (await t.app.inject('/docs/json')).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/sandbox/api/people', '/sandbox/api/people/{id}/scan', '/sandbox/api/qrcodes', '/wechat/callback']));
    const res = await fetch(`${t.baseUrl}/sandbox/cgi-bin/user/get?access_token=forged`);
    expect(await res.json()).toEqual({ errcode: 40001, errmsg: expect.any(String) });
    const noToken = await fetch(`${t.baseUrl}/sandbox/cgi-bin/user/get`);
    expect(((await noToken.json()) as { errcode: number }).errcode).toBe(41001);
  });
});
