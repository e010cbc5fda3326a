import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { multipart } from '../helpers/multipart';
import { pdfTexts } from '../helpers/pdf-text';
import { ordersFile } from '../taobao/taobao-files';

/**
 * The journey the product exists for, through the sandbox over real HTTP: a buyer scans the parcel insert, follows,
 * binds their Taobao order by chat, claims the review reward in the mini-program, the merchant approves, the buyer
 * confirms the transfer and is paid. Then the same journey's bad turns.
 */
describe('from parcel to member', () => {
  let t: SandboxTestApp;
  let auth: { authorization: string };
  const ALICE_ORDER = '2036455525271594001';
  const ALICE_OTHER_ORDER = '2036455525271594002';
  const CAROL_ORDER = '3036455525271594003';
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 1)]);
  let batchId: string;
  let ticket: string;

  const person = async (nickname: string) =>
    (await t.sandbox('POST', '/people', { nickname })).body as { id: string; oaOpenid: string; mpOpenid: string; unionid: string };
  const say = async (id: string, text: string) => (await t.sandbox('POST', `/people/${id}/messages`, { text })).body.reply?.Content as string;
  const followerRow = async (openid: string) =>
    (await t.app.infra.db.dataSource.query('SELECT unionid, member_id, subscribed FROM oa_follower WHERE openid = $1', [openid]))[0];

  async function mpLogin(id: string): Promise<{ authorization: string }> {
    const { code } = (await t.sandbox('POST', `/people/${id}/login-code`, {})).body;
    const res = await t.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
    expect(res.statusCode).toBe(200);
    const auth = { authorization: `Bearer ${res.json().token}` };
    // The privacy notice first, as the mini-program's popup does before a claim's screenshot.
    if (!res.json().privacy.accepted) {
      const accepted = await t.app.inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: auth, payload: { version: res.json().privacy.version } });
      expect(accepted.statusCode).toBe(204);
    }
    return auth;
  }

  function claim(member: { authorization: string }, orderNo: string, screenshot = png) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'claim-'));
    const file = path.join(dir, 'review.png');
    fs.writeFileSync(file, screenshot);
    const body = multipart({ orderNo }, { screenshot: file });
    return t.app.inject({ method: 'POST', url: '/api/mp/review-claims', headers: { ...member, ...body.headers }, payload: body.payload });
  }

  beforeAll(async () => {
    t = await buildSandboxApp({ WXPAY_SANDBOX_TIME_SCALE: '0.001' });
    auth = await t.ownerAuth();
    const file = ordersFile([
      { orderNo: ALICE_ORDER, nick: 'a**e', phone: "'138****6392", total: '129.90', status: '交易成功' },
      { orderNo: ALICE_OTHER_ORDER, nick: 'a**e', phone: "'138****6392", total: '59.00', status: '卖家已发货，等待买家确认' },
      { orderNo: CAROL_ORDER, nick: 'c**l', phone: "'139****1111", total: '88.00', status: '交易成功' },
    ]);
    const imp = t.app.services.taobaoImport;
    await imp.run({}, await imp.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: file }));

    const campaign = await t.app.inject({
      method: 'POST',
      url: '/api/admin/review-campaigns',
      headers: auth,
      payload: { name: '双十一晒单', rewardKind: 'cash', amountFen: 500, startsAt: new Date(Date.now() - 3600_000).toISOString(), endsAt: new Date(Date.now() + 7 * 86_400_000).toISOString() },
    });
    expect(campaign.statusCode).toBe(201);
    const batch = await t.app.inject({
      method: 'POST',
      url: '/api/admin/parcel-batches',
      headers: auth,
      payload: { name: '双十一第一批', quantityPrinted: 1000, printingCostFen: 30000, insertText: '如实评价并晒图，领取 5 元' },
    });
    expect(batch.statusCode).toBe(201);
    batchId = batch.json().id;
    ticket = batch.json().qrTicket;
    expect(batch.json()).toMatchObject({ qrKind: 'permanent', scene: expect.stringMatching(/^pb_/) });
  });
  afterAll(async () => t.close());

  it('scan → follow → welcome → order number → phone digits → bound → claim → approve → confirm → paid, and the batch counts it', async () => {
    const alice = await person('Alice');
    const scan = await t.sandbox('POST', `/people/${alice.id}/scan`, { ticket, deliveries: 3 });
    expect(scan.body.event).toBe('subscribe');
    expect(scan.body.deliveries.map((d: { status: number }) => d.status)).toEqual([200, 200, 200]);
    expect(scan.body.reply.Content).toContain('欢迎');
    expect(scan.body.reply.Content).toContain('data-miniprogram-path="packages/bind/index"');
    expect(scan.body.reply.Content).not.toMatch(/好评|关注后/);

    expect(await say(alice.id, `我的订单号是 ${ALICE_ORDER}`)).toContain('后四位');
    const bound = await say(alice.id, '6392');
    expect(bound).toContain('绑定成功');
    expect(bound).toContain('a**e');
    expect(bound).toMatch(/获得 129 积分/); // the completed ¥129.90 order, at 1 point per yuan

    // The follower's unionid arrives by a queued user-info fetch: it joins the mini-program login to the same member.
    const deadline = Date.now() + 15_000;
    while (!(await followerRow(alice.oaOpenid))?.unionid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const follower = await followerRow(alice.oaOpenid);
    expect(follower.unionid).toBe(alice.unionid);

    const member = await mpLogin(alice.id);
    const me = (await t.app.inject({ method: 'GET', url: '/api/mp/me', headers: member })).json();
    expect(me.id).toBe(follower.member_id);
    expect(me.taobaoBuyer).toMatchObject({ nickMasked: 'a**e' });
    expect(me.pointsBalance).toBe(129); // the completed ¥129.90 order only: the shipped one earns nothing yet

    const submitted = await claim(member, ALICE_ORDER);
    expect(submitted.statusCode).toBe(201);
    expect(submitted.json().status).toBe('submitted');

    const approved = await t.app.inject({ method: 'POST', url: `/api/admin/review-claims/${submitted.json().id}/approve`, headers: auth });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'transfer_pending', amountFen: 500 });

    const transfer = await t.app.inject({ method: 'GET', url: `/api/mp/review-claims/${submitted.json().id}/transfer`, headers: member });
    expect(transfer.statusCode).toBe(200);
    const confirm = await t.sandbox('POST', `/people/${alice.id}/confirm-transfer`, { packageInfo: transfer.json().package });
    expect(confirm.status).toBe(200);
    const paidBy = Date.now() + 15_000;
    let status = '';
    while (status !== 'paid' && Date.now() < paidBy) {
      status = (await t.app.inject({ method: 'GET', url: '/api/mp/review-claims', headers: member })).json()[0].status;
      if (status !== 'paid') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('paid');

    const figures = (await t.app.inject({ method: 'GET', url: `/api/admin/parcel-batches/${batchId}/figures`, headers: auth })).json();
    expect(figures).toMatchObject({ scans: 1, newFollowers: 1, netFollowers: 1, boundBuyers: 1, reviewRewardClaims: 1, costPerFollowerFen: 30000, costPerBoundBuyerFen: 30000 });
    expect(figures.byDay).toHaveLength(1);

    // Customer service sees the messages, 64-bit MsgIds as strings.
    const msgs = (await t.app.inject({ method: 'GET', url: `/api/admin/messages?openid=${alice.oaOpenid}`, headers: auth })).json().messages;
    expect(msgs.map((m: { content: string }) => m.content)).toEqual(expect.arrayContaining(['6392', `我的订单号是 ${ALICE_ORDER}`]));
    expect(msgs.every((m: { msgId: unknown }) => typeof m.msgId === 'string')).toBe(true);
  });

  it('refuses every bad turn with a clear reply or code, and loses nothing', async () => {
    const bob = await person('Bob');
    await t.sandbox('POST', `/people/${bob.id}/scan`, { ticket });

    // Someone else's order, with the right digits: already bound to Alice.
    expect(await say(bob.id, ALICE_ORDER)).toContain('后四位');
    expect(await say(bob.id, '6392')).toContain('另一个微信账号');

    // Wrong digits five times, then even the right ones wait an hour.
    expect(await say(bob.id, CAROL_ORDER)).toContain('后四位');
    // The fifth wrong try is still answered as a mismatch; only then is binding refused for the hour.
    for (let i = 0; i < 5; i++) {
      const reply = await say(bob.id, '0000');
      expect(reply).toContain('不符');
      expect(reply).not.toContain('次数过多');
    }
    expect(await say(bob.id, CAROL_ORDER)).toContain('后四位');
    expect(await say(bob.id, '1111')).toContain('次数过多');

    // An order that does not exist.
    const carol = await person('Carol');
    await t.sandbox('POST', `/people/${carol.id}/follow`, {});
    expect(await say(carol.id, '9999999999999999999')).toContain('后四位');
    expect(await say(carol.id, '1234')).toContain('没有找到');

    // A second claim for the same order; a claim for an order not yet completed; a claim for someone else's order.
    const alice = (await t.sandbox('GET', '/people')).body.people.find((p: { nickname: string }) => p.nickname === 'Alice');
    const member = await mpLogin(alice.id);
    const again = await claim(member, ALICE_ORDER);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('already_claimed');
    const unfinished = await claim(member, ALICE_OTHER_ORDER);
    expect(unfinished.statusCode).toBe(409);
    expect(unfinished.json().code).toBe('order_not_completed');
    const notMine = await claim(member, CAROL_ORDER);
    expect(notMine.statusCode).toBe(404);
    const notAnImage = await claim(member, ALICE_OTHER_ORDER, Buffer.from('<svg/>'));
    expect(notAnImage.statusCode).toBe(400);
    expect(notAnImage.json().code).toBe('screenshot_not_image');

    // The transfer notification delivered again settles nothing twice; a forged one is refused before parsing.
    const [paid] = await t.app.infra.db.dataSource.query("SELECT out_bill_no FROM review_claim WHERE status = 'paid'");
    expect(await t.app.services.reviewRewards.settleTransfer({}, { outBillNo: paid.out_bill_no, state: 'SUCCESS' })).toBe('ignored');
    const forged = await t.app.inject({
      method: 'POST',
      url: '/wechatpay/notify',
      headers: {
        'content-type': 'application/json',
        'wechatpay-serial': 'PUB_KEY_ID_0000000000000000000000000000',
        'wechatpay-signature': Buffer.from('forged').toString('base64'),
        'wechatpay-timestamp': String(Math.floor(Date.now() / 1000)),
        'wechatpay-nonce': 'n0nce',
      },
      payload: JSON.stringify({ id: 'x', event_type: 'MCHTRANSFER.BILL.FINISHED', resource: {} }),
    });
    expect(forged.statusCode).toBe(401);
    const [{ n }] = await t.app.infra.db.dataSource.query("SELECT count(*)::int AS n FROM review_claim WHERE status = 'paid'");
    expect(n).toBe(1);

    // Unfollowing is recorded against the batch that brought the follower.
    await t.sandbox('POST', `/people/${bob.id}/unfollow`, {});
    const figures = (await t.app.inject({ method: 'GET', url: `/api/admin/parcel-batches/${batchId}/figures`, headers: auth })).json();
    expect(figures).toMatchObject({ newFollowers: 2, unfollows: 1, netFollowers: 1 });
  });

  it('prints the batch’s insert cards and counts the permanent codes used', async () => {
    const pdf = await t.app.inject({ method: 'GET', url: `/api/admin/parcel-batches/${batchId}/cards.pdf?layout=a4&copies=4`, headers: auth });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    // Four cards of the merchant's offer; the batch's own name stays off them.
    const printed = pdfTexts(pdf.rawPayload);
    expect(printed.filter((line) => line === '晒单评价有礼')).toHaveLength(4);
    expect(printed.join('')).toContain('如实评价并晒图，领取 5 元');
    expect(printed.join('')).not.toContain('双十一第一批');
    const list = (await t.app.inject({ method: 'GET', url: '/api/admin/parcel-batches', headers: auth })).json();
    expect(list.permanentCodes).toEqual({ used: 1, limit: 100_000 });
    // Customer service may read batches but not create them.
    await t.app.inject({ method: 'POST', url: '/api/admin/staff', headers: auth, payload: { username: 'cs-1', password: 'cs-password-1', role: 'customer_service' } });
    const cs = (await t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'cs-1', password: 'cs-password-1' } })).json().token;
    const denied = await t.app.inject({
      method: 'POST',
      url: '/api/admin/parcel-batches',
      headers: { authorization: `Bearer ${cs}` },
      payload: { name: 'x', quantityPrinted: 1, printingCostFen: 1, insertText: 'x' },
    });
    expect(denied.statusCode).toBe(403);
  });

  it('erases the member everywhere on request, and the batch figures still add up', async () => {
    const alice = (await t.sandbox('GET', '/people')).body.people.find((p: { nickname: string }) => p.nickname === 'Alice');
    const member = await mpLogin(alice.id);
    const before = (await t.app.inject({ method: 'GET', url: `/api/admin/parcel-batches/${batchId}/figures`, headers: auth })).json();
    const [shot] = await t.app.infra.db.dataSource.query("SELECT screenshot_path FROM review_claim WHERE status = 'paid'");
    const shotFile = path.join(t.app.infra.config.uploadsDir, 'review-screenshots', shot.screenshot_path);
    expect(fs.existsSync(shotFile)).toBe(true);

    const erased = await t.app.inject({ method: 'POST', url: '/api/mp/me/erase', headers: member, payload: { confirm: true } });
    expect(erased.statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/mp/me', headers: member })).statusCode).toBe(401);
    expect(await followerRow(alice.oaOpenid)).toBeUndefined();
    const msgs = (await t.app.inject({ method: 'GET', url: `/api/admin/messages?openid=${alice.oaOpenid}`, headers: auth })).json().messages;
    expect(msgs).toEqual([]);
    expect(fs.existsSync(shotFile)).toBe(false);
    const [claimRow] = await t.app.infra.db.dataSource.query("SELECT status, amount_fen, screenshot_path FROM review_claim WHERE status = 'paid'");
    expect(claimRow).toEqual({ status: 'paid', amount_fen: 500, screenshot_path: 'erased' });
    const after = (await t.app.inject({ method: 'GET', url: `/api/admin/parcel-batches/${batchId}/figures`, headers: auth })).json();
    // The funnel's counts stay; the erased member is no longer linked to a buyer, so the bound figures drop.
    const { boundBuyers, reviewRewardClaims, costPerBoundBuyerFen, ...counts } = after;
    const { boundBuyers: b0, reviewRewardClaims: c0, costPerBoundBuyerFen: k0, ...countsBefore } = before;
    expect(counts).toEqual(countsBefore);
    expect({ boundBuyers, reviewRewardClaims, costPerBoundBuyerFen }).toEqual({ boundBuyers: b0 - 1, reviewRewardClaims: c0 - 1, costPerBoundBuyerFen: null });
    expect(k0).toBe(30000);
  });
});
