import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { multipart } from '../helpers/multipart';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { waitFor } from '../helpers/wait';
import { ordersFile } from '../taobao/taobao-files';
import { PRIVACY_NOTICE_VERSION } from '../../server/modules/mp-session/mp-session.service';

/** 评价有礼: a claim the merchant turns down, through the admin and mini-program APIs and the sandbox's WeChat. */
describe('review claims: rejection', () => {
  let t: SandboxTestApp;
  let owner: { authorization: string };
  let cs: { authorization: string };
  const ORDER = '2036455525271597001';
  const shotFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'claim-')), 'review.png');
  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);
  let person: { id: string; oaOpenid: string };
  let member: { authorization: string };

  const claim = () => {
    const body = multipart({ orderNo: ORDER }, { screenshot: shotFile });
    return t.app.inject({ method: 'POST', url: '/api/mp/review-claims', headers: { ...member, ...body.headers }, payload: body.payload });
  };
  const reject = (id: string, reason: unknown, headers = cs) =>
    t.app.inject({ method: 'POST', url: `/api/admin/review-claims/${id}/reject`, headers, payload: { reason } });

  beforeAll(async () => {
    fs.writeFileSync(shotFile, Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 3)]));
    t = await buildSandboxApp({ WXPAY_SANDBOX_TIME_SCALE: '0.001' });
    owner = await t.ownerAuth();
    await t.app.inject({ method: 'POST', url: '/api/admin/staff', headers: owner, payload: { username: 'cs-1', password: 'cs-password-1', role: 'customer_service' } });
    cs = { authorization: `Bearer ${(await t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'cs-1', password: 'cs-password-1' } })).json().token}` };
    const imp = t.app.services.taobaoImport;
    await imp.run({}, await imp.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: ordersFile([{ orderNo: ORDER, nick: 'r**j', phone: "'138****7001", total: '66.00', status: '交易成功' }]) }));
    const campaign = await t.app.inject({
      method: 'POST',
      url: '/api/admin/review-campaigns',
      headers: owner,
      payload: { name: '晒单有礼', rewardKind: 'cash', amountFen: 500, startsAt: new Date(Date.now() - 86_400_000).toISOString(), endsAt: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(campaign.statusCode).toBe(201);

    // A follower of the Official Account (where the outcome is told) who opened the mini-program and bound the order.
    person = (await t.sandbox('POST', '/people', { nickname: 'Rej' })).body;
    await t.sandbox('POST', `/people/${person.id}/follow`, {});
    await waitFor('the follower joined by unionid', async () => (await q('SELECT unionid FROM oa_follower WHERE openid = $1', [person.oaOpenid]))[0]?.unionid);
    const { code } = (await t.sandbox('POST', `/people/${person.id}/login-code`, {})).body;
    member = { authorization: `Bearer ${(await t.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code } })).json().token}` };
    const accepted = await t.app.inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: member, payload: { version: PRIVACY_NOTICE_VERSION } });
    expect(accepted.statusCode).toBe(204);
    const bound = await t.app.inject({ method: 'POST', url: '/api/mp/bindings', headers: member, payload: { orderNo: ORDER, phoneLast4: '7001' } });
    expect(bound.statusCode).toBe(200);
  });
  afterAll(async () => t.close());

  it('a rejected claim keeps its reason, tells the member on the Official Account, pays nothing and can be claimed again', async () => {
    const first = await claim();
    expect(first.statusCode).toBe(201);
    const id = first.json().id as string;

    // A reason is required (2–200 characters); an unknown claim is 404; customer service may decide claims.
    expect([(await reject(id, '')).statusCode, (await reject(id, '')).json().code]).toEqual([400, 'invalid_request']);
    expect((await reject('00000000-0000-4000-8000-000000000000', '截图看不清')).statusCode).toBe(404);
    const rejected = await reject(id, '截图看不清');
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json()).toMatchObject({ id, status: 'rejected', rejectReason: '截图看不清', outBillNo: null, decidedAt: expect.any(String), settledAt: null });

    // Decided once: neither approved nor rejected again, and no transfer bill exists for it.
    const approve = await t.app.inject({ method: 'POST', url: `/api/admin/review-claims/${id}/approve`, headers: owner });
    expect([approve.statusCode, approve.json().code]).toEqual([409, 'claim_state']);
    expect([(await reject(id, '再拒一次')).statusCode, (await reject(id, '再拒一次')).json().code]).toEqual([409, 'claim_state']);
    expect(t.app.paySandbox!.snapshot().transferBills).toEqual([]);
    expect(await q('SELECT status, reject_reason, out_bill_no, approved_day FROM review_claim WHERE id = $1', [id])).toEqual([
      { status: 'rejected', reject_reason: '截图看不清', out_bill_no: null, approved_day: null },
    ]);

    // The member sees the outcome in the mini-program and hears it on the Official Account (a queued message).
    const mine = (await t.app.inject({ method: 'GET', url: '/api/mp/review-claims', headers: member })).json();
    expect(mine).toEqual([expect.objectContaining({ id, status: 'rejected', rejectReason: '截图看不清' })]);
    const told = await waitFor('the rejection message', async () => {
      const items = (await t.sandbox('GET', `/people/${person.id}/inbox`)).body.items as Array<{ channel: string; text: string }>;
      return items.find((i) => i.channel === 'custom');
    });
    expect(told.text).toBe('您的晒单评价奖励申请未通过：截图看不清。可在小程序中重新提交。');

    // A rejection frees the order: a new claim for it is accepted (one open claim per order).
    const again = await claim();
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ status: 'submitted', rejectReason: null });
    const third = await claim();
    expect([third.statusCode, third.json().code]).toEqual([409, 'already_claimed']);
  });
});
