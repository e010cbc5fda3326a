import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A newcomer at /sandbox: everything by clicking, in Debian's chromium (never a downloaded browser). */
describe('the sandbox page in a real browser', () => {
  let t: SandboxTestApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    // The bare boundary: these tests register their own handlers instead of the product's.
    t = await buildSandboxApp({}, { productHandlers: false });
    t.app.services.wechat.inbound.onEvent('subscribe', async (msg) => ({ type: 'text', content: `欢迎加入会员！来源 ${msg.scene}` }));
    t.app.services.wechat.inbound.onMessage('text', async (msg) => ({ type: 'text', content: `已收到订单号 ${msg.content}` }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('creates a person and a QR code, scans it, chats, and watches the inbox — all by clicking', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Whatever the Content-Security-Policy refuses, the browser reports on the console.
    page.on('console', (m) => m.text().includes('Content Security Policy') && errors.push(m.text()));
    const response = await page.goto(`${t.baseUrl}/sandbox`);
    const csp = response!.headers()['content-security-policy']!;
    // The page's script and styles are files of its own origin: nothing inline is allowed.
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("script-src-attr 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    await page.getByPlaceholder('昵称（可不填）').fill('小雪');
    await page.getByRole('button', { name: '新建用户' }).click();
    const card = page.locator('section.person', { hasText: '小雪' });
    await card.waitFor();
    await page.getByPlaceholder('场景值，例如 batch-2024-11').fill('parcel-2024-11');
    await page.getByRole('button', { name: '生成二维码' }).click();
    await page.locator('.qr', { hasText: 'parcel-2024-11' }).waitFor();
    // The QR image is a real PNG served by the sandbox.
    const loaded = await page.locator('.qr img').first().evaluate((img) => { const i = img as unknown as { complete: boolean; naturalWidth: number }; return i.complete && i.naturalWidth > 0; });
    expect(loaded).toBe(true);

    await card.locator('select.ticket').selectOption({ label: '二维码 parcel-2024-11' });
    await card.locator('select.deliveries').selectOption('3');
    await card.locator('button.scan').click();
    await card.locator('.out', { hasText: '回复：欢迎加入会员！来源 parcel-2024-11' }).waitFor();
    await expect(card.locator('.out').textContent()).resolves.toContain('第3次 → 200');
    await card.locator('.inbox .bubble', { hasText: '欢迎加入会员！来源 parcel-2024-11' }).waitFor();
    await card.locator('.badge.on', { hasText: '已关注' }).waitFor();

    await card.getByPlaceholder('发消息，例如订单号').fill('3141592653589793238');
    await card.locator('button.send').click();
    await card.locator('.inbox .bubble', { hasText: '已收到订单号 3141592653589793238' }).waitFor();

    // Something the server sends on its own (a customer-service message) shows up too.
    const people = (await t.sandbox('GET', '/people')).body.people as Array<{ nickname: string; oaOpenid: string }>;
    await t.app.services.wechat.oa.sendCustomText(people.find((p) => p.nickname === '小雪')!.oaOpenid, '<b>会员价</b> 已开启');
    await card.locator('.inbox .bubble', { hasText: '<b>会员价</b> 已开启' }).waitFor({ timeout: 10_000 });

    await card.locator('button.login').click();
    await card.locator('.out', { hasText: 'wx.login code：' }).waitFor();
    await card.locator('button.unfollow').click();
    await card.locator('.badge', { hasText: '未关注' }).waitFor();
    expect((await page.locator('#log li').count()) > 0).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('/docs (Swagger UI) renders the API under its Content-Security-Policy', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.text().includes('Content Security Policy') && errors.push(m.text()));
    const response = await page.goto(`${t.baseUrl}/docs`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self';");
    await page.locator('.swagger-ui .info .title', { hasText: 'Snowball API' }).waitFor();
    await page.locator('.opblock-summary-path', { hasText: '/healthz' }).first().waitFor();
    // Past a number of operations Swagger UI draws only those near the viewport (a virtual list): scroll to the login.
    const login = page.locator('.opblock-summary-path', { hasText: '/api/admin/login' }).first();
    for (let i = 0; i < 200 && !(await login.count()); i++) await page.mouse.wheel(0, 600);
    await login.waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an inline script the page did not ship is refused by the policy', async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    page.on('console', (m) => m.type() === 'error' && refused.push(m.text()));
    await page.goto(`${t.baseUrl}/sandbox`);
    await page.locator('#people').waitFor({ state: 'attached' });
    const ran = await page.evaluate(`(() => {
      const s = document.createElement('script');
      s.textContent = 'window.injected = true';
      document.body.append(s);
      return window.injected === true;
    })()`);
    expect(ran).toBe(false);
    expect(refused.some((m) => m.includes('Content Security Policy'))).toBe(true);
    await page.close();
  });
});
