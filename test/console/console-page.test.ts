import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { multipart } from '../helpers/multipart';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { PRIVACY_NOTICE_VERSION } from '../../server/modules/mp-session/mp-session.service';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The merchant console's review queue (/console/) in a real browser: a customer-service account turns a claim down. */
describe('the merchant console in a real browser', () => {
  let t: SandboxTestApp;
  let browser: Browser;
  let orderNo: string;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    t = await buildSandboxApp({ DEMO_SEED: 'true' });
    expect(await t.app.services.demo.settled()).toBe('seeded');
    const owner = await t.ownerAuth();
    expect((await t.app.inject({ method: 'POST', url: '/api/admin/staff', headers: owner, payload: { username: 'cs-1', password: 'cs-password-1', role: 'customer_service' } })).statusCode).toBe(201);

    // A member of the demo shop who bound an order and claimed its review reward, both from the mini-program.
    const demo = (await t.sandbox('GET', '/demo')).body.demo as { orders: Array<{ orderNo: string; phoneLast4: string; bound: boolean }> };
    const order = demo.orders.find((o) => !o.bound)!;
    orderNo = order.orderNo;
    const person = (await t.sandbox('POST', '/people', { nickname: '驳回' })).body as { id: string };
    const { code } = (await t.sandbox('POST', `/people/${person.id}/login-code`, {})).body as { code: string };
    const member = { authorization: `Bearer ${(await t.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code } })).json().token}` };
    expect((await t.app.inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: member, payload: { version: PRIVACY_NOTICE_VERSION } })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'POST', url: '/api/mp/bindings', headers: member, payload: { orderNo, phoneLast4: order.phoneLast4 } })).statusCode).toBe(200);
    const shot = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'console-')), 'review.png');
    fs.writeFileSync(shot, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));
    const body = multipart({ orderNo }, { screenshot: shot });
    const claimed = await t.app.inject({ method: 'POST', url: '/api/mp/review-claims', headers: { ...member, ...body.headers }, payload: body.payload });
    expect(claimed.statusCode).toBe(201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('logs in, refuses a rejection without a reason, rejects with one (shown as text), and logs out', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) errors.push(m.text());
    });
    await page.goto(`${t.baseUrl}/console`);
    await page.waitForURL(`${t.baseUrl}/console/`);
    await page.locator('#username').fill('cs-1');
    await page.locator('#password').fill('cs-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    await page.locator('#who', { hasText: 'cs-1 · 客服' }).waitFor();
    const claim = page.locator('.claim', { hasText: `订单 ${orderNo}` });
    await claim.locator('img[src^="blob:"]').waitFor();

    await claim.getByRole('button', { name: '驳回' }).click();
    await claim.locator('.error', { hasText: '请写下驳回理由' }).waitFor();
    const reason = '<img src=x> 截图不是这笔订单';
    await claim.getByPlaceholder('驳回理由（会员会看到）').fill(reason);
    await claim.getByRole('button', { name: '驳回' }).click();
    await claim.waitFor({ state: 'detached' });
    const row = page.locator('#decided tr', { hasText: orderNo });
    await row.getByText(`已驳回：${reason}`).waitFor();
    expect(await page.locator('#decided img').count()).toBe(0);
    await page.locator('#pending-empty').waitFor();
    const claims = (await t.app.inject({ method: 'GET', url: '/api/admin/review-claims', headers: await t.ownerAuth() })).json() as Array<{ orderNo: string; status: string; rejectReason: string }>;
    expect(claims.find((c) => c.orderNo === orderNo)).toMatchObject({ status: 'rejected', rejectReason: reason });

    // The token lives in this tab's sessionStorage: a reload keeps the session, logging out ends it on the server too.
    const token = (await page.evaluate('sessionStorage.getItem("snowball-staff-token")')) as string;
    await page.reload();
    await page.locator('#who', { hasText: 'cs-1' }).waitFor();
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.locator('#login-form').waitFor();
    expect(await page.evaluate('sessionStorage.getItem("snowball-staff-token")')).toBeNull();
    for (let i = 0; i < 50; i++) {
      if ((await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: `Bearer ${token}` } })).statusCode === 401) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
    expect(errors).toEqual([]);
    await page.close();
  });
});
