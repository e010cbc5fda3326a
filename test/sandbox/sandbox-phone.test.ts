import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Screenshots of what a person sees, for a look by eye (never committed): SANDBOX_SHOTS=/tmp/shots.
const SHOTS = process.env.SANDBOX_SHOTS;

/** The mini-program in the browser: a person's phone on /sandbox runs miniprogram/src against the real server. */
describe('the sandbox phone in a real browser', () => {
  let t: SandboxTestApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    t = await buildSandboxApp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
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
    await page.goto(`${t.baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/sandbox');
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
    await page.close();
  });
});
