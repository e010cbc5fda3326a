import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { freePort, report, startTarget } from './harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CARD = '.components-member-card-member-card--card';

const summary = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { runs: ms.length, minMs: s[0], p50Ms: at(0.5), p90Ms: at(0.9), maxMs: s[s.length - 1], eachMs: ms };
};

/**
 * Opening a sandbox person's phone (/sandbox/phone/?person=id) until the home page's member card is drawn, in
 * headless chromium, each run in a fresh browser context (nothing cached): the page, the mini-program's bundle and
 * stylesheet, wx.login through the sandbox, the session and the member card from the server, the render.
 * Beside it, in the same browser: the landing page (/) to DOMContentLoaded, a static page with a stylesheet and a
 * script of the same origin: what the browser and the server take for any page here.
 * Correct: the card shows the tier and points the server holds for that person, and no page error happened.
 * BENCH_PHONE_RUNS (default 10) runs of each; the first open of all, which builds the bundle, is reported apart.
 */
export async function phoneBench(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const runs = Number(process.env.BENCH_PHONE_RUNS ?? 10);
  const port = await freePort();
  const app = await startTarget('snowball.ts', { SANDBOX: 'true', DEMO_SEED: 'false', BENCH_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
  let browser: Browser | undefined;
  try {
    const base = app.url;
    const person = (await (await fetch(`${base}/sandbox/api/people`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nickname: '测速' }) })).json()) as { id: string };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const errors: string[] = [];

    /** One open in a fresh context: ms from navigation start to the frame the card is first in the document. */
    const openPhone = async (acceptPrivacy: boolean): Promise<{ ms: number; text: string }> => {
      const context = await browser!.newContext({ viewport: { width: 375, height: 720 } });
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base}/sandbox/phone/?person=${person.id}`, { waitUntil: 'commit' });
      if (acceptPrivacy) await page.getByText('同意并继续').click();
      // A function, not a string: the page's policy refuses eval. It runs in the page (no DOM types here).
      const drawn = await page.waitForFunction(
        (sel: string) => {
          const card = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(sel);
          return card !== null && card.textContent.includes('积分') ? performance.now() : 0;
        },
        CARD,
        { polling: 'raf', timeout: 30_000 },
      );
      const ms = Math.round((await drawn.jsonValue()) as number);
      const text = (await page.locator(CARD).textContent()) ?? '';
      await context.close();
      return { ms, text };
    };
    /** The landing page: ms to DOMContentLoaded (its HTML, stylesheet and script) and to its load event. */
    const openStatic = async (): Promise<{ ready: number; load: number }> => {
      const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base}/`, { waitUntil: 'load' });
      const nav = JSON.parse((await page.evaluate(`JSON.stringify(performance.getEntriesByType('navigation')[0])`)) as string) as { domContentLoadedEventEnd: number; loadEventEnd: number };
      await context.close();
      return { ready: Math.round(nav.domContentLoadedEventEnd), load: Math.round(nav.loadEventEnd) };
    };

    // The first open of all builds the bundle on the server; the person accepts the privacy notice then (once).
    const first = await openPhone(true);
    const phone: number[] = [];
    const peer: number[] = [];
    const peerLoad: number[] = [];
    let lastText = '';
    for (let i = 0; i < runs; i++) {
      const r = await openPhone(false);
      phone.push(r.ms);
      lastText = r.text;
      const p = await openStatic();
      peer.push(p.ready);
      peerLoad.push(p.load);
    }

    const member = (await (await fetch(`${base}/sandbox/api/people/${person.id}/member`)).json()) as { member: { tier: string; points: number } | null };
    const js = Buffer.from(await (await fetch(`${base}/sandbox/phone/phone.js`)).arrayBuffer());
    const css = Buffer.from(await (await fetch(`${base}/sandbox/phone/phone.css`)).arrayBuffer());
    const correct = member.member !== null && lastText.includes(member.member.tier) && lastText.includes(String(member.member.points)) && errors.length === 0;
    const p50 = summary(phone).p50Ms!;
    report('phone', {
      what: 'open /sandbox/phone/?person=id until the member card is drawn (fresh context each run, headless chromium)',
      firstOpenMs: first.ms,
      phone: summary(phone),
      peer: { name: 'landing page / to DOMContentLoaded (HTML, stylesheet, script), same browser', ...summary(peer) },
      // With no Chinese font installed the landing page downloads the served one (about 8 MB a weight) before its
      // load event; the phone's card is drawn before such a font arrives (font-display: swap), as is the peer's DOM.
      peerLoadEvent: { name: 'the same page to its load event (fonts included)', ...summary(peerLoad), eachMs: undefined },
      phoneOverPeer: Math.round((p50 / summary(peer).p50Ms) * 10) / 10,
      // The goal holds for nine opens in ten, not only the median.
      goalMs: 1500,
      goalMet: summary(phone).p90Ms! < 1500,
      bundle: { jsBytes: js.length, jsGzipBytes: gzipSync(js).length, cssBytes: css.length, cssGzipBytes: gzipSync(css).length },
      correct,
      check: { card: lastText.replace(/\s+/g, ' ').trim().slice(0, 80), server: member.member, pageErrors: errors },
    });
    if (!correct) throw new Error('the phone did not show what the server holds for the person');
  } finally {
    await browser?.close();
    await app.stop();
  }
}
