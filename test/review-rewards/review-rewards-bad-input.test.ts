import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addDays, shanghaiDay } from '../../server/infra/time';
import { outBillNoOf } from '../../server/modules/review-rewards/review-rewards.service';
import { multipart } from '../helpers/multipart';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { buildSandboxApp, eventually, type SandboxTestApp } from '../helpers/sandbox';
import { ordersFile } from '../taobao/taobao-files';

/**
 * 评价有礼 when things go wrong, through the real app on a real port, the database and the WeChat Pay sandbox:
 * too many claims, a campaign's daily budget, and a transfer that failed or is still waiting.
 */
describe('review rewards: rate limit, daily budget, transfer retries', () => {
  const env = { WXPAY_SANDBOX_TIME_SCALE: '0.001' };
  // The app's clock, fixed at noon of this Shanghai day: the test's "today" is the server's even when the run crosses
  // 16:00 UTC (midnight in Shanghai); approvals over HTTP count against this day's budget.
  const NOW = new Date(`${shanghaiDay()}T12:00:00+08:00`);
  const TODAY = shanghaiDay(NOW);
  const app = (opts: { database: TestDatabase }) => buildSandboxApp(env, { ...opts, clock: () => NOW });
  let database: TestDatabase;
  let t: SandboxTestApp;
  let owner: { authorization: string };
  let ownerId: string;
  let cs: { authorization: string };
  let campaignId: string;
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)]);
  const shotFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'claim-')), 'review.png');
  // Ada has twelve completed orders (one claim each); Ben has one.
  const adaOrders = Array.from({ length: 12 }, (_, i) => `20364555252715950${String(i).padStart(2, '0')}`);
  const BEN_ORDER = '3036455525271595100';
  type Member = { id: string; mpOpenid: string; auth: { authorization: string } };
  let ada: Member;
  let ben: Member;

  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);
  const screenshots = () => {
    const dir = path.join(t.app.infra.config.uploadsDir, 'review-screenshots');
    if (!fs.existsSync(dir)) return 0;
    return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).length;
  };
  const claim = (m: Member, orderNo: string) => {
    const body = multipart({ orderNo }, { screenshot: shotFile });
    return t.app.inject({ method: 'POST', url: '/api/mp/review-claims', headers: { ...m.auth, ...body.headers }, payload: body.payload });
  };
  const approve = (id: string, headers = owner) => t.app.inject({ method: 'POST', url: `/api/admin/review-claims/${id}/approve`, headers });
  const retry = (id: string, headers = owner) => t.app.inject({ method: 'POST', url: `/api/admin/review-claims/${id}/retry-transfer`, headers });
  const row = async (id: string) =>
    (await q('SELECT status, out_bill_no, transfer_attempt, approved_day::text AS approved_day, failure_reason FROM review_claim WHERE id = $1', [id]))[0];
  /** The claim's row once it reaches `status` (notifications arrive over HTTP, a few ms later). */
  const rowOnce = async (id: string, status: string) => {
    let current = await row(id);
    const seen = () => (current.status === status ? current : undefined);
    const poll = setInterval(() => void row(id).then((r) => (current = r)), 25);
    try {
      return await eventually(seen);
    } finally {
      clearInterval(poll);
    }
  };
  const bills = (claimId: string) =>
    t.app.paySandbox!.snapshot().transferBills.filter((b) => b.out_bill_no.startsWith(outBillNoOf(claimId, 0).slice(0, -3)));

  async function member(nickname: string, orderNo: string, last4: string): Promise<Member> {
    const p = (await t.sandbox('POST', '/people', { nickname })).body;
    const { code } = (await t.sandbox('POST', `/people/${p.id}/login-code`, {})).body;
    const login = await t.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
    expect(login.statusCode).toBe(200);
    const auth = { authorization: `Bearer ${login.json().token}` };
    // The privacy notice first, as the mini-program's popup does: nothing personal is taken before it.
    const accepted = await t.app.inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: auth, payload: { version: login.json().privacy.version } });
    expect(accepted.statusCode).toBe(204);
    const bound = await t.app.inject({ method: 'POST', url: '/api/mp/bindings', headers: auth, payload: { orderNo, phoneLast4: last4 } });
    expect(bound.statusCode).toBe(200);
    return { id: p.id, mpOpenid: p.mpOpenid, auth };
  }

  async function ownerLogin() {
    const login = await t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'owner', password: 'owner-password-1' } });
    owner = { authorization: `Bearer ${login.json().token}` };
    ownerId = login.json().staff.id;
  }

  beforeAll(async () => {
    fs.writeFileSync(shotFile, png);
    // A database of the test's own: the last test starts the app again on it.
    database = await createTestDatabase();
    t = await app({ database });
    await ownerLogin();
    await t.app.inject({ method: 'POST', url: '/api/admin/staff', headers: owner, payload: { username: 'cs-r', password: 'cs-r-password-1', role: 'customer_service' } });
    cs = { authorization: `Bearer ${(await t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username: 'cs-r', password: 'cs-r-password-1' } })).json().token}` };

    const file = ordersFile([
      ...adaOrders.map((orderNo) => ({ orderNo, nick: 'a**a', phone: "'138****1001", total: '49.00', status: '交易成功' })),
      { orderNo: BEN_ORDER, nick: 'b**n', phone: "'139****2002", total: '59.00', status: '交易成功' },
    ]);
    const imp = t.app.services.taobaoImport;
    await imp.run({}, await imp.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: file }));
    const campaign = await t.app.inject({
      method: 'POST',
      url: '/api/admin/review-campaigns',
      headers: owner,
      payload: { name: '晒单有礼', rewardKind: 'cash', amountFen: 500, dailyBudgetFen: 1000, startsAt: new Date(NOW.getTime() - 2 * 86_400_000).toISOString(), endsAt: new Date(Date.now() + 7 * 86_400_000).toISOString() },
    });
    expect(campaign.statusCode).toBe(201);
    campaignId = campaign.json().id;
    ada = await member('Ada', adaOrders[0]!, '1001');
    ben = await member('Ben', BEN_ORDER, '2002');
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('an 11th claim in a minute answers 429 rate_limited and stores nothing; another member on the same address is not held up', async () => {
    for (const orderNo of adaOrders.slice(0, 10)) expect((await claim(ada, orderNo)).statusCode).toBe(201);
    const shotsBefore = screenshots();
    for (const orderNo of adaOrders.slice(10)) {
      const refused = await claim(ada, orderNo);
      expect(refused.statusCode).toBe(429);
      expect(refused.json().code).toBe('rate_limited');
    }
    const [{ n }] = await q('SELECT count(*)::int AS n FROM review_claim WHERE order_no = ANY($1)', [adaOrders.slice(10)]);
    expect(n).toBe(0);
    expect(screenshots()).toBe(shotsBefore);
    const [{ total }] = await q('SELECT count(*)::int AS total FROM review_claim');
    expect(total).toBe(10);

    // The limit is per member session: Ben, on the same address, claims as usual.
    const benClaim = await claim(ben, BEN_ORDER);
    expect(benClaim.statusCode).toBe(201);
    expect(screenshots()).toBe(shotsBefore + 1);
  });

  describe('approvals', () => {
    let ids: string[];
    beforeAll(async () => {
      const list = await t.app.inject({ method: 'GET', url: '/api/admin/review-claims?status=submitted&limit=200', headers: owner });
      ids = (list.json() as Array<{ id: string; memberId: string; orderNo: string }>).filter((c) => adaOrders.includes(c.orderNo)).map((c) => c.id);
      expect(ids).toHaveLength(10);
    });

    it('stop at the day’s budget with daily_budget_reached and no transfer bill; the next Shanghai day they go through', async () => {
      for (const id of ids.slice(0, 2)) {
        const ok = await approve(id, cs);
        expect(ok.statusCode).toBe(200);
        expect(ok.json()).toMatchObject({ status: 'transfer_pending', outBillNo: outBillNoOf(id, 1) });
      }
      const over = await approve(ids[2]!);
      expect(over.statusCode).toBe(409);
      expect(over.json().code).toBe('daily_budget_reached');
      expect(await row(ids[2]!)).toMatchObject({ status: 'submitted', out_bill_no: null, approved_day: null });
      expect(bills(ids[2]!)).toEqual([]);

      // The last second of the Shanghai day is still today; its first second is tomorrow.
      const today = TODAY;
      const tomorrow = addDays(today, 1);
      const midnight = new Date(`${tomorrow}T00:00:00+08:00`);
      const rewards = t.app.services.reviewRewards;
      await expect(rewards.approve({}, ownerId, ids[2]!, new Date(midnight.getTime() - 1000))).rejects.toMatchObject({ code: 'daily_budget_reached' });
      expect(bills(ids[2]!)).toEqual([]);
      expect(await rewards.approve({}, ownerId, ids[2]!, midnight)).toMatchObject({ status: 'transfer_pending', outBillNo: outBillNoOf(ids[2]!, 1) });
      expect(await row(ids[2]!)).toMatchObject({ approved_day: tomorrow });
      expect(bills(ids[2]!).map((b) => b.state)).toEqual(['WAIT_USER_CONFIRM']);
      expect(await rewards.approve({}, ownerId, ids[3]!, midnight)).toMatchObject({ status: 'transfer_pending' });
      await expect(rewards.approve({}, ownerId, ids[4]!, midnight)).rejects.toMatchObject({ code: 'daily_budget_reached' });

      const [{ spent }] = await q("SELECT sum(amount_fen)::int AS spent FROM review_claim WHERE campaign_id = $1 AND approved_day = $2", [campaignId, today]);
      expect(spent).toBe(1000);
    });

    it('a retry while the bill waits for the member is refused, and the bill keeps its out_bill_no', async () => {
      const waiting = ids[1]!;
      const res = await retry(waiting);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('transfer_in_progress');
      expect(await row(waiting)).toMatchObject({ status: 'transfer_pending', out_bill_no: outBillNoOf(waiting, 1), transfer_attempt: 1 });
      expect(bills(waiting).map((b) => [b.out_bill_no, b.state])).toEqual([[outBillNoOf(waiting, 1), 'WAIT_USER_CONFIRM']]);
      // Only owners and operators may retry; a claim that was never approved has nothing to retry.
      expect((await retry(waiting, cs)).statusCode).toBe(403);
      const notApproved = await retry(ids[5]!);
      expect(notApproved.statusCode).toBe(409);
      expect(notApproved.json().code).toBe('claim_state');
      expect((await retry('00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    });

    it('a failed transfer keeps its out_bill_no and its budget; the retry asks WeChat, then pays under a new out_bill_no', async () => {
      const failed = ids[0]!;
      const first = outBillNoOf(failed, 1);
      // The bill is withdrawn at WeChat Pay (as when nobody confirms it in 24 hours): CANCELLED comes back signed.
      await t.app.services.wxpay!.cancelTransferBill(first);
      expect(await rowOnce(failed, 'transfer_failed')).toMatchObject({ status: 'transfer_failed', out_bill_no: first, transfer_attempt: 1, failure_reason: expect.any(String) });

      // Its 5 yuan still counts against the day it was approved on: nothing more fits today.
      const more = await approve(ids[5]!);
      expect(more.statusCode).toBe(409);
      expect(more.json().code).toBe('daily_budget_reached');

      const retried = await retry(failed);
      expect(retried.statusCode).toBe(200);
      expect(retried.json()).toMatchObject({ status: 'transfer_pending', outBillNo: outBillNoOf(failed, 2) });
      expect(bills(failed).map((b) => [b.out_bill_no, b.state])).toEqual([
        [first, 'CANCELLED'],
        [outBillNoOf(failed, 2), 'WAIT_USER_CONFIRM'],
      ]);
      // A second retry while the new bill waits changes nothing.
      expect((await retry(failed)).json().code).toBe('transfer_in_progress');
      expect(bills(failed)).toHaveLength(2);

      // Ada confirms the new bill in the mini-program and is paid once.
      const pkg = await t.app.inject({ method: 'GET', url: `/api/mp/review-claims/${failed}/transfer`, headers: ada.auth });
      expect(pkg.statusCode).toBe(200);
      expect((await t.sandbox('POST', `/people/${ada.id}/confirm-transfer`, { packageInfo: pkg.json().package })).status).toBe(200);
      expect(await rowOnce(failed, 'paid')).toMatchObject({ status: 'paid', out_bill_no: outBillNoOf(failed, 2), transfer_attempt: 2 });
      const done = await retry(failed);
      expect(done.statusCode).toBe(409);
      expect(done.json().code).toBe('claim_state');
      const [{ spent }] = await q("SELECT sum(amount_fen)::int AS spent FROM review_claim WHERE campaign_id = $1 AND approved_day = $2 AND status <> 'rejected'", [
        campaignId,
        TODAY,
      ]);
      expect(spent).toBe(1000);
    });

    it('a waiting bill WeChat has no record of is asked for again under the same out_bill_no, never a new one', async () => {
      const waiting = ids[3]!; // approved at the next day's midnight, its bill waiting for Ada
      expect(await row(waiting)).toMatchObject({ status: 'transfer_pending', out_bill_no: outBillNoOf(waiting, 1) });
      // The app starts again on a sandbox that starts empty (its kept state removed), so WeChat now has no such bill.
      await t.close();
      fs.rmSync(path.join(database.dataDir, 'sandbox', 'state.jsonl'));
      t = await app({ database });
      await ownerLogin();
      expect(bills(waiting)).toEqual([]);

      const res = await retry(waiting);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'transfer_pending', outBillNo: outBillNoOf(waiting, 1) });
      expect(await row(waiting)).toMatchObject({ transfer_attempt: 1, failure_reason: null });
      expect(bills(waiting).map((b) => [b.out_bill_no, b.state])).toEqual([[outBillNoOf(waiting, 1), 'WAIT_USER_CONFIRM']]);
      expect((await retry(waiting)).json().code).toBe('transfer_in_progress');
    });
  });
});
