import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { buildApp } from '../server/app';
import { loadConfig } from '../server/config';
import { startEmbeddedPostgres } from '../server/infra/db';

/**
 * npm run screenshots: the README's pictures, made by walking "See it work" in Debian's chromium against a fresh
 * sandbox (embedded, in memory, the demo shop seeded): the landing page, the sandbox page with a person's phone open,
 * and that phone. Written to docs/screenshots/ (OUT_DIR for elsewhere); nothing is kept of the run.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = path.resolve(process.env.OUT_DIR ?? path.join(__dirname, '..', 'docs', 'screenshots'));

/** 3000, as the README shows it, when it is free; another free port otherwise. */
async function pickPort(): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | null>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(null));
      srv.listen(port, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
  return (await tryPort(3000)) ?? (await tryPort(0))!;
}

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  fs.mkdirSync(OUT, { recursive: true });
  const port = await pickPort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-shots-'));
  const config = loadConfig({ PATH: process.env.PATH, SANDBOX: 'true', DEMO_SEED: 'true', PORT: String(port), PUBLIC_URL: base, DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const embedded = await startEmbeddedPostgres('memory://');
  const app = await buildApp({ config, databaseUrl: embedded.url });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    await app.listen({ port, host: '127.0.0.1' });
    if ((await app.services.demo.settled()) !== 'seeded') throw new Error('the demo shop was not seeded');
    const control = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${base}/sandbox/api${url}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    // Steps 1–3 of See it work for two people: scan the demo batch, bind an order by chat.
    const demo = (await control<{ demo: { batch: { ticket: string }; orders: Array<{ orderNo: string; phoneLast4: string; bound: boolean }> } }>('GET', '/demo')).demo;
    const free = demo.orders.filter((o) => !o.bound);
    const people: Array<{ id: string }> = [];
    for (const [i, nickname] of ['小雪', '阿花'].entries()) {
      const p = await control<{ id: string }>('POST', '/people', { nickname });
      await control('POST', `/people/${p.id}/scan`, { ticket: demo.batch.ticket });
      await control('POST', `/people/${p.id}/messages`, { text: free[i]!.orderNo });
      await control('POST', `/people/${p.id}/messages`, { text: free[i]!.phoneLast4 });
      people.push(p);
    }

    const shot = async (page: Page, name: string, opts: { fullPage?: boolean } = {}) => {
      await page.evaluate('document.fonts.ready');
      await page.screenshot({ path: path.join(OUT, name), ...opts });
      process.stdout.write(`${path.join(OUT, name)}\n`);
    };

    // The landing page, with the two people's phones listed.
    const landing = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await landing.goto(`${base}/`);
    await landing.locator('#phone-list a', { hasText: '阿花' }).waitFor();
    await landing.locator('#demo-owner .user').waitFor();
    await shot(landing, 'landing.png', { fullPage: true });

    // Step 4: the sandbox page, 小雪's phone open on the member card after the privacy notice and a check-in.
    const page = await browser.newPage({ viewport: { width: 1280, height: 1480 } });
    await page.goto(`${base}/sandbox`);
    const card = page.locator('section.person', { hasText: '小雪' });
    await card.locator('.member', { hasText: '积分' }).waitFor();
    await card.getByRole('button', { name: '打开小程序' }).click();
    const phone = page.frameLocator('iframe[title="小雪 的手机"]');
    await phone.locator('body[data-ready="true"]').waitFor();
    await phone.getByText('同意并继续').click();
    await phone.locator('.wx-tab', { hasText: '签到' }).click();
    await phone.locator('wx-button', { hasText: '立即签到' }).click();
    await phone.locator('wx-button[disabled]', { hasText: /已签到|今日已签到/ }).waitFor();
    await phone.locator('.wx-tab', { hasText: '首页' }).click();
    await phone.locator('.components-member-card-member-card--card').waitFor();
    await card.locator('.member', { hasText: '积分' }).waitFor();
    await page.locator('section.person', { hasText: '阿花' }).waitFor();
    await new Promise((r) => setTimeout(r, 2500)); // the page's next refresh: the card's points after the check-in
    await page.evaluate('window.scrollTo(0, 0)');
    await shot(page, 'sandbox.png');
    await card.locator('.phone').screenshot({ path: path.join(OUT, 'phone.png') });
    process.stdout.write(`${path.join(OUT, 'phone.png')}\n`);
  } finally {
    await browser.close();
    await app.close();
    await embedded.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
