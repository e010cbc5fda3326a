import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A newcomer at /sandbox of a fresh install: the demo's hints alone get them to a bound order, by clicking. */
describe('the demo on the sandbox page', () => {
  let t: SandboxTestApp;
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    t = await buildSandboxApp({ DEMO_SEED: 'true' });
    expect(await t.app.services.demo.settled()).toBe('seeded');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the batch and the orders to try, preselects the batch, and binds the first hint', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${t.baseUrl}/sandbox`);
    const demo = page.locator('#demo');
    await demo.locator('tr.hint').first().waitFor();
    expect(await demo.locator('tr.hint').count()).toBe(5);
    expect(await demo.textContent()).toContain('演示包裹卡 · 第一批');
    // No demo owner here (the test config names one): the page says nothing of a demo password.
    expect(await demo.textContent()).not.toContain('密码在运行 npm start 的终端方框里');
    const orderNo = (await demo.locator('tr.hint td.no').nth(0).textContent())!;
    const digits = (await demo.locator('tr.hint td.no').nth(1).textContent())!;
    expect(orderNo).toMatch(/^\d{19}$/);
    expect(digits).toMatch(/^\d{4}$/);

    await page.getByPlaceholder('昵称（可不填）').fill('新人');
    await page.getByRole('button', { name: '新建用户' }).click();
    const card = page.locator('section.person', { hasText: '新人' });
    await card.waitFor();
    // The demo batch is already picked in the person's card.
    await expect(card.locator('select.ticket option:checked').textContent()).resolves.toContain('演示包裹卡');
    await card.locator('button.scan').click();
    await card.locator('.inbox .bubble', { hasText: '欢迎' }).waitFor();

    const message = card.getByPlaceholder('发消息，例如订单号');
    await message.fill(orderNo);
    await card.locator('button.send').click();
    await card.locator('.inbox .bubble', { hasText: '后四位' }).waitFor();
    await message.fill(digits);
    await card.locator('button.send').click();
    await card.locator('.inbox .bubble', { hasText: '绑定成功' }).waitFor();
    // The hint turns to bound at the next refresh and moves below the ones still free.
    await demo.locator('tr.bound', { hasText: orderNo }).waitFor({ timeout: 10_000 });
    // The person's card shows them as a member with the bound order's points.
    await card.locator('.member', { hasText: /^会员 · .+ · 积分 [1-9]\d* · 已绑定淘宝订单 [1-9]\d* 笔/ }).waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
    await page.close();
  });
});
