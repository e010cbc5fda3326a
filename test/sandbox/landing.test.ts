import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { buildTestApp, type TestApp } from '../helpers/app';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.SANDBOX_SHOTS;

/** The address the README gives, http://127.0.0.1:3000/: a page that says what Snowball is and where to go next. */
describe('the landing page', () => {
  let sandbox: TestApp;
  let live: TestApp;
  beforeAll(async () => {
    sandbox = await buildTestApp({ SANDBOX: 'true' });
    live = await buildTestApp({ SANDBOX: 'false', WECHAT_APPID: 'wx1234567890abcdef', WECHAT_SECRET: 's', WECHAT_TOKEN: 'token123', PUBLIC_URL: 'https://shop.example.com' });
  });
  afterAll(async () => {
    await sandbox?.close();
    await live?.close();
  });

  it('in sandbox mode: Chinese with English beside it, linking the sandbox, the phones, the docs and the merchant login', async () => {
    const res = await sandbox.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.body;
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('把淘宝、天猫的一次性买家，变成品牌自己的微信会员');
    expect(html).toContain("Turns one-off Taobao / Tmall buyers into a brand's own WeChat members");
    for (const href of ['href="/sandbox"', 'href="/docs"', 'href="/healthz"', 'href="/readyz"']) expect(html).toContain(href);
    expect(html).toContain('id="phone-list"');
    expect(html).toContain('/api/admin/login');
    expect(html).toContain('仅沙盒模式');
    // Nothing inline: the script and stylesheet are files of this origin, under the app's own policy.
    expect(html).not.toMatch(/<script>|<style|style="|onclick=/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('serves its script, stylesheet and fonts, and nothing else under /landing', async () => {
    const css = await sandbox.app.inject({ method: 'GET', url: '/landing/landing.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body).toContain('url("fonts/sans-sc-regular.otf")');
    const js = await sandbox.app.inject({ method: 'GET', url: '/landing/landing.js' });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain("fetch(base + '/api' + path)");
    const font = await sandbox.app.inject({ method: 'GET', url: '/landing/fonts/sans-sc-regular.otf' });
    expect(font.statusCode).toBe(200);
    expect(font.headers['content-type']).toBe('font/otf');
    expect(font.rawPayload.subarray(0, 4).toString('latin1')).toBe('OTTO');
    for (const url of ['/landing/landing.routes.ts', '/landing/..%2Fapp.ts', '/landing/fonts/..%2F..%2Fapp.ts', '/landing/fonts/x.otf']) {
      const r = await sandbox.app.inject({ method: 'GET', url });
      expect(r.statusCode).toBe(404);
      expect(r.json().code).toMatch(/^(not_found|font_not_found|route_not_found)$/);
    }
  });

  it('mounts the merchant console’s page in both modes, under the policy with only blob: images added', async () => {
    for (const t of [sandbox, live]) {
      const res = await t.app.inject({ method: 'GET', url: '/console/' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<script src="/console/console.js"></script>');
      expect(res.body).not.toMatch(/<script>|<style|style="|onclick=/);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("img-src 'self' data: blob:");
      expect(csp).toContain("script-src 'self';");
      expect(csp).not.toMatch(/unsafe-(inline|eval)/);
      expect((await t.app.inject({ method: 'GET', url: '/console/console.js' })).headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect((await t.app.inject({ method: 'GET', url: '/console/console.routes.ts' })).statusCode).toBe(404);
      // The landing page links it; the policy of every other page keeps blob: out.
      expect((await t.app.inject({ method: 'GET', url: '/' })).body).toContain('href="/console/"');
      expect(String((await t.app.inject({ method: 'GET', url: '/' })).headers['content-security-policy'])).not.toContain('blob:');
    }
  });

  it('without the sandbox: the same page with no sandbox, phones or demo login, and the sandbox is not mounted', async () => {
    const res = await live.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-sandbox="false"');
    expect(res.body).toContain('href="/docs"');
    expect(res.body).toContain('curl -X POST https://shop.example.com/api/admin/login');
    expect(res.body).not.toContain('href="/sandbox"');
    expect(res.body).not.toContain('phone-list');
    expect(res.body).not.toContain('演示店铺');
    for (const url of ['/sandbox', '/sandbox/phone/', '/sandbox/phone/phone.js', '/sandbox/page/sandbox.js']) {
      expect((await live.app.inject({ method: 'GET', url })).statusCode).toBe(404);
    }
  });
});

describe('the landing page in a real browser', () => {
  let t: SandboxTestApp;
  let browser: Browser;
  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    // No ADMIN_USERNAME: the demo shop gets its own owner, as on a newcomer's first npm start.
    t = await buildSandboxApp({ DEMO_SEED: 'true', ADMIN_USERNAME: '', ADMIN_PASSWORD: '' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('lists each sandbox person as a link to their phone (names as text), names the demo login, and leads to the sandbox', async () => {
    for (let i = 0; i < 600 && !(await t.sandbox('GET', '/demo')).body.demo; i++) await new Promise((r) => setTimeout(r, 100));
    const person = (await t.sandbox('POST', '/people', { nickname: '<b>小雪</b>' })).body as { id: string };
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    await page.goto(`${t.baseUrl}/`);
    const link = page.locator('#phone-list a', { hasText: '<b>小雪</b> 的手机' });
    await link.waitFor();
    expect(await page.locator('#phone-list b').count()).toBe(0);
    expect(await link.getAttribute('href')).toBe(`/sandbox/phone/?person=${person.id}`);
    await page.locator('#demo-owner .user', { hasText: 'demo' }).waitFor();
    // The Chinese is drawn in a Chinese font (served to a browser that has none), not as empty boxes.
    // (The callbacks run in the page; the test's own types have no DOM.)
    await page.evaluate('document.fonts.ready');
    await expect(page.evaluate(`document.fonts.check('16px "Snowball Sans SC"', '雪球')`)).resolves.toBe(true);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/landing.png`, fullPage: true });

    await link.click();
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('.wx-nav-title', { hasText: '会员中心' }).waitFor();
    await page.goBack();
    await page.locator('#link-sandbox').click();
    await page.waitForURL(`${t.baseUrl}/sandbox`);
    await page.locator('section.person', { hasText: '<b>小雪</b>' }).waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });
});
