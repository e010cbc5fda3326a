import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { TEST_OWNER } from '../helpers/app';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';

type DemoOrder = { orderNo: string; phoneLast4: string; bound: boolean };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// A real image (1×1), so the console can be seen to draw the member's screenshot.
const ONE_PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
// Screenshots of what a person sees, for a look by eye (never committed): SANDBOX_SHOTS=/tmp/shots.
const SHOTS = process.env.SANDBOX_SHOTS;

/** The mini-program in the browser: a person's phone on /sandbox runs miniprogram/src against the real server. */
describe('the sandbox phone in a real browser', () => {
  let t: SandboxTestApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    // The demo shop: its imported orders to bind and its products to buy.
    t = await buildSandboxApp({ DEMO_SEED: 'true' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  /** The demo shop, once seeded (it is seeded after the app listens). */
  const demoShop = async (): Promise<{ orders: DemoOrder[] }> => {
    for (let i = 0; i < 600; i++) {
      const demo = (await t.sandbox('GET', '/demo')).body.demo;
      if (demo) return demo;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the demo shop was not seeded');
  };

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the phone as files of its own origin: a page, a script and a stylesheet with rpx as a share of the width', async () => {
    const html = await fetch(`${t.baseUrl}/sandbox/phone/?person=x`).then((r) => r.text());
    expect(html).toContain('<script src="phone.js"></script>');
    expect(html).not.toMatch(/<script>/);
    const css = await fetch(`${t.baseUrl}/sandbox/phone/phone.css`).then((r) => r.text());
    expect(css).toContain(':root { --rpx: calc(100vw / 750); }');
    // app.wxss `.section { margin: 24rpx; … }`, scoped to the home page and converted.
    expect(css).toContain('.pages-home-index--section{margin: calc(var(--rpx) * 24);');
    expect(css).not.toMatch(/\d+rpx/);
    const js = await fetch(`${t.baseUrl}/sandbox/phone/phone.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await js.text()).length).toBeGreaterThan(50_000);
  });

  it('a person opens their phone, accepts the privacy notice, checks in and sees the points on the phone and on their card', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Under a strict Content-Security-Policy (no inline script or style, no eval), nothing is refused.
    const refused: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) refused.push(m.text());
    });
    // The policy is the server's own: checked on the phone's document as the browser gets it.
    const phoneCsp: string[] = [];
    page.on('response', (r) => {
      if (r.request().resourceType() === 'document' && new URL(r.url()).pathname === '/sandbox/phone/') phoneCsp.push(r.headers()['content-security-policy'] ?? '');
    });
    // A newcomer's way in: the address the README gives, then the landing page's link to the sandbox.
    await page.goto(`${t.baseUrl}/`);
    await page.locator('#link-sandbox').click();
    await page.waitForURL(`${t.baseUrl}/sandbox`);
    await page.getByPlaceholder('昵称（可不填）').fill('小雪');
    await page.getByRole('button', { name: '新建用户' }).click();
    const card = page.locator('section.person', { hasText: '小雪' });
    await card.waitFor();

    // The server's message with a mini-program link: shown as a card that opens the phone, never as markup.
    const people = (await t.sandbox('GET', '/people')).body.people as Array<{ id: string; nickname: string; oaOpenid: string }>;
    const xiaoxue = people.find((p) => p.nickname === '小雪')!;
    expect((await t.sandbox('POST', `/people/${xiaoxue.id}/follow`, {})).status).toBe(200);
    await t.app.services.wechat.oa.sendCustomText(xiaoxue.oaOpenid, '欢迎！<a data-miniprogram-appid="wxsandbox" data-miniprogram-path="pages/check-in/index" href="https://example.com/">去签到</a>');
    const link = card.locator('.inbox .bubble button.mpcard', { hasText: '去签到' });
    await link.waitFor({ timeout: 10_000 });
    await expect(card.locator('.inbox').textContent()).resolves.not.toContain('<a');

    await card.getByRole('button', { name: '打开小程序' }).click();
    const phone = page.frameLocator('iframe[title="小雪 的手机"]');
    await phone.locator('body[data-ready="true"]').waitFor();
    await phone.locator('.wx-nav-title', { hasText: '会员中心' }).waitFor();
    await phone.getByText('隐私保护提示').waitFor();
    if (SHOTS) await card.locator('.phone').screenshot({ path: `${SHOTS}/phone-privacy.png` });
    await phone.getByText('同意并继续').click();
    await phone.getByText('隐私保护提示').waitFor({ state: 'hidden' });
    await phone.locator('.pages-home-index--empty').waitFor({ state: 'detached' });
    // The member card, drawn at the frame's width: 750rpx = 375px, so the card's 24rpx margin is 12px.
    const box = await phone.locator('.components-member-card-member-card--card').boundingBox();
    const frameBox = await card.locator('iframe').boundingBox();
    expect(Math.round(box!.x - frameBox!.x)).toBe(12);
    expect(Math.round(box!.width)).toBe(375 - 24);
    await expect(phone.locator('.wx-tab').allTextContents()).resolves.toEqual(['首页', '签到', '商城', '我的']);
    // The member code: a QR drawn with views whose sizes are inline rpx styles, scaled like the stylesheets.
    await phone.getByText('出示会员码').click();
    const cell = phone.locator('.components-qr-code-qr-code--qr-cell').first();
    await cell.waitFor();
    await expect(cell.evaluate((c) => (c as unknown as { style: { width: string } }).style.width)).resolves.toMatch(/^calc\(var\(--rpx\) \* \d+(\.\d+)?\)$/);
    await phone.getByText('收起会员码').click();

    await phone.locator('.wx-tab', { hasText: '签到' }).click();
    await phone.locator('.wx-nav-title', { hasText: '每日签到' }).waitFor();
    await phone.locator('wx-button', { hasText: '立即签到' }).click();
    await phone.locator('wx-button[disabled]', { hasText: /已签到|今日已签到/ }).waitFor();
    if (SHOTS) await card.locator('.phone').screenshot({ path: `${SHOTS}/phone-checked-in.png` });

    const balance = (await t.sandbox('GET', `/people/${xiaoxue.id}/member`)).body.member as { points: number };
    expect(balance.points).toBeGreaterThan(0);
    await phone.locator('.wx-tab', { hasText: '首页' }).click();
    await phone.locator('.components-member-card-member-card--card', { hasText: String(balance.points) }).waitFor();
    await card.locator('.member', { hasText: `积分 ${balance.points}` }).waitFor();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/sandbox-page.png`, fullPage: true });

    // The welcome's mini-program card opens the phone at its page.
    await link.click();
    await phone.locator('.wx-nav-title', { hasText: '每日签到' }).waitFor();
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
    expect(phoneCsp.length).toBeGreaterThan(0);
    for (const csp of phoneCsp) {
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("frame-ancestors 'self'");
      expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    }
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.close();
  });

  it('binds a Taobao order in the phone, buys a product with WeChat Pay after the confirm sheet, and sees the order paid', async () => {
    const order = (await demoShop()).orders.find((o) => !o.bound)!;
    const person = (await t.sandbox('POST', '/people', { nickname: '阿花' })).body as { id: string };
    const page = await browser.newPage({ viewport: { width: 375, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${t.baseUrl}/sandbox/phone/?person=${person.id}`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.getByText('同意并继续').click();
    const shown = page.locator('.wx-page-frame:not([hidden])');

    await shown.getByText('绑定淘宝订单', { exact: true }).click();
    await page.locator('.wx-nav-title', { hasText: '绑定淘宝订单' }).waitFor();
    await shown.locator('wx-input input').nth(0).fill(order.orderNo);
    await shown.locator('wx-input input').nth(1).fill(order.phoneLast4);
    await shown.locator('wx-button', { hasText: '绑定' }).click();
    await shown.getByText('绑定成功').waitFor();
    const member = (await t.sandbox('GET', `/people/${person.id}/member`)).body.member as { boundOrders: number; points: number };
    expect(member.boundOrders).toBeGreaterThanOrEqual(1);
    await shown.getByText(`获得 ${member.points} 积分`, { exact: false }).waitFor();

    await page.locator('.wx-nav-back').click();
    await page.locator('.wx-tab', { hasText: '商城' }).click();
    await page.locator('.wx-nav-title', { hasText: '会员商城' }).waitFor();
    await shown.getByText('雪球 杯刷清洁套装 3件').click();
    await shown.locator('wx-button', { hasText: '立即购买' }).click();
    await page.locator('.wx-nav-title', { hasText: '确认订单' }).waitFor();
    await shown.getByText('＋ 添加收货地址').click();
    await shown.locator('wx-button', { hasText: '新增收货地址' }).click();
    await shown.getByText('从微信收货地址导入').click();
    // wx.chooseAddress: the person's WeChat addresses, in a sheet.
    await page.locator('.wx-pick-row', { hasText: '阿花' }).first().click();
    await shown.locator('wx-input input').first().evaluate((i) => (i as unknown as { value: string }).value).then((v) => expect(v).toBe('阿花'));
    await shown.locator('wx-button', { hasText: '保存' }).click();
    await shown.getByText('浦东新区 世纪大道 100 号 8 楼', { exact: false }).first().click();
    await page.locator('.wx-nav-title', { hasText: '确认订单' }).waitFor();
    await shown.getByText('阿花 138****8000').waitFor();
    await shown.locator('wx-button', { hasText: '提交订单并支付' }).click();

    // wx.requestPayment: the confirm sheet shows what WeChat Pay was asked for; paying goes through the sandbox's WeChat Pay.
    const sheet = page.locator('.wx-sheet', { hasText: '微信支付' });
    await sheet.waitFor();
    const charged = (await sheet.locator('.wx-pay-amount').textContent())!;
    expect(charged).toMatch(/^¥\d+\.\d\d$/);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/phone-pay.png` });
    await sheet.locator('.wx-sheet-action', { hasText: '确认支付' }).click();
    await page.locator('.wx-nav-title', { hasText: '订单详情' }).waitFor();
    await shown.getByText('待发货').waitFor();
    await shown.getByText('支付时间').waitFor();
    // What the sheet charged is what the order says was paid.
    await shown.locator('.row, wx-view', { hasText: '实付' }).getByText(charged).first().waitFor();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/phone-paid.png` });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a share from one phone becomes the friend’s phone opened at the shared page', async () => {
    await demoShop();
    for (const nickname of ['分享者', '好友']) await t.sandbox('POST', '/people', { nickname });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${t.baseUrl}/sandbox`);
    const sharer = page.locator('section.person', { hasText: '分享者' });
    await sharer.getByRole('button', { name: '打开小程序' }).click();
    const phone = page.frameLocator('iframe[title="分享者 的手机"]');
    await phone.locator('body[data-ready="true"]').waitFor();
    await phone.getByText('同意并继续').click();
    await phone.locator('.wx-tab', { hasText: '商城' }).click();
    await phone.locator('.wx-nav-title', { hasText: '会员商城' }).waitFor();
    await phone.locator('.wx-page-frame:not([hidden])').getByText('雪球 焖烧罐 1L').first().click();
    // The product page: its title turns from 商品详情 to the product's name once loaded, so its buttons tell.
    await phone.locator('.wx-page-frame:not([hidden])').getByText('加入购物车').waitFor();
    await phone.locator('wx-button', { hasText: '分享' }).click();
    // The share sheet lists the other sandbox people, with the page the share opens.
    const row = phone.locator('.wx-pick-row', { hasText: '好友' });
    await expect(row.locator('.wx-pick-sub').textContent()).resolves.toMatch(/^\/packages\/store\/product\/index\?id=[0-9a-f-]+$/);
    await row.click();
    const friend = page.frameLocator('iframe[title="好友 的手机"]');
    await friend.locator('body[data-ready="true"]').waitFor();
    await expect(page.locator('iframe[title="好友 的手机"]').getAttribute('src')).resolves.toContain('&path=%2Fpackages%2Fstore%2Fproduct%2Findex%3Fid%3D');
    await friend.locator('.wx-page-frame:not([hidden])').getByText('雪球 焖烧罐 1L').first().waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('claims the review reward in the phone with a screenshot; once the merchant approves, the member confirms the transfer', async () => {
    const demo = await demoShop();
    const order = demo.orders.filter((o) => !o.bound).slice(-1)[0];
    const person = (await t.sandbox('POST', '/people', { nickname: '晒单人' })).body as { id: string };
    await t.sandbox('POST', `/people/${person.id}/follow`, {});
    await t.sandbox('POST', `/people/${person.id}/messages`, { text: order.orderNo });
    await t.sandbox('POST', `/people/${person.id}/messages`, { text: order.phoneLast4 });
    expect(((await t.sandbox('GET', `/people/${person.id}/member`)).body.member as { boundOrders: number }).boundOrders).toBeGreaterThanOrEqual(1);

    const page = await browser.newPage({ viewport: { width: 375, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${t.baseUrl}/sandbox/phone/?person=${person.id}`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.getByText('同意并继续').click();
    const shown = page.locator('.wx-page-frame:not([hidden])');
    await page.locator('.wx-tab', { hasText: '我的' }).click();
    await shown.getByText('晒单评价有礼').click();
    await page.locator('.wx-nav-title', { hasText: '晒单评价有礼' }).waitFor();
    await shown.locator('wx-input input').fill(order.orderNo);
    const chooser = page.waitForEvent('filechooser');
    await shown.getByText('＋ 选择截图').click();
    await (await chooser).setFiles({ name: 'review.png', mimeType: 'image/png', buffer: ONE_PIXEL_PNG });
    await shown.locator('wx-image.packages-review-index--preview img[src^="blob:"]').waitFor({ state: 'attached' });
    await shown.locator('wx-button', { hasText: '提交申请' }).click();
    await shown.locator('.packages-review-index--claim', { hasText: `订单 ${order.orderNo}` }).getByText('审核中').waitFor();

    // The merchant approves by clicking: the sandbox page's link into the console, the staff login, the claim's
    // screenshot (fetched with the staff token, shown under the page's policy), 通过.
    const sandboxPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    sandboxPage.on('pageerror', (e) => errors.push(e.message));
    await sandboxPage.goto(`${t.baseUrl}/sandbox`);
    const popup = sandboxPage.waitForEvent('popup');
    await sandboxPage.locator('#demo-console').click();
    const consolePage = await popup;
    consolePage.on('pageerror', (e) => errors.push(e.message));
    const refused: string[] = [];
    consolePage.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) refused.push(m.text());
    });
    await consolePage.waitForURL(`${t.baseUrl}/console/`);
    await consolePage.locator('#password').fill('not-the-password');
    await consolePage.locator('#username').fill(TEST_OWNER.username);
    await consolePage.getByRole('button', { name: '登录' }).click();
    await consolePage.locator('#login-error', { hasText: '用户名或密码不对' }).waitFor();
    await consolePage.locator('#password').fill(TEST_OWNER.password);
    await consolePage.getByRole('button', { name: '登录' }).click();
    const pending = consolePage.locator('.claim', { hasText: `订单 ${order.orderNo}` });
    await pending.waitFor();
    await expect(pending.textContent()).resolves.toContain('奖励 ¥');
    await pending.locator('img[src^="blob:"]').waitFor();
    await expect(pending.locator('img').evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).resolves.toBe(1);
    if (SHOTS) await consolePage.screenshot({ path: `${SHOTS}/console-review.png` });
    await pending.getByRole('button', { name: '通过' }).click();
    await pending.waitFor({ state: 'detached' });
    // The cash reward waits for the member's confirmation: the console says so once the transfer is asked for.
    await consolePage.locator('#decided tr', { hasText: order.orderNo }).getByText('已通过，待会员确认收款').waitFor();
    expect(refused).toEqual([]);
    const login = await t.app.inject({ method: 'POST', url: '/api/admin/login', payload: TEST_OWNER });
    const staff = { authorization: `Bearer ${login.json().token}` };
    const claim = ((await t.app.inject({ method: 'GET', url: '/api/admin/review-claims', headers: staff })).json() as Array<{ id: string; orderNo: string; status: string }>).find((c) => c.orderNo === order.orderNo)!;
    let status = claim.status;
    expect(status).toBe('transfer_pending');

    // The capsule's refresh (the page's pull-down refresh) shows the claim waiting; confirming goes through the sandbox.
    await page.locator('.wx-capsule-more').click();
    await page.locator('.wx-actionsheet-item', { hasText: '刷新' }).click();
    await shown.locator('wx-button', { hasText: '确认收款' }).click();
    await page.locator('.wx-sheet', { hasText: '商家向你转账' }).locator('.wx-sheet-action').click();
    await page.locator('.wx-sheet').waitFor({ state: 'detached' });
    // WeChat Pay then tells the server (a notification, handled in the background); the member refreshes to see it.
    const claimStatus = async () =>
      ((await t.app.inject({ method: 'GET', url: '/api/admin/review-claims', headers: staff })).json() as Array<{ id: string; status: string }>).find((c) => c.id === claim.id)!.status;
    for (let i = 0; i < 300 && (status = await claimStatus()) !== 'paid'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(status).toBe('paid');
    await page.locator('.wx-capsule-more').click();
    await page.locator('.wx-actionsheet-item', { hasText: '刷新' }).click();
    await shown.locator('.packages-review-index--claim', { hasText: `订单 ${order.orderNo}` }).getByText('已到账').waitFor();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/phone-review-paid.png` });
    await consolePage.locator('#decided tr', { hasText: order.orderNo }).getByText('已到账').waitFor();
    expect(errors).toEqual([]);
    await consolePage.close();
    await sandboxPage.close();
    await page.close();
  });
});
