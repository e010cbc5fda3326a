import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, report } from './harness';
import { generate } from './taobao-import.bench';

/**
 * npm run bench -- import-embedded-latency: the embedded server as `npm start` runs it (a process of its own on a
 * fresh DATA_DIR), a member calling GET /api/mp/me from 4 concurrent loops, first alone, then while an upload of
 * BENCH_IMPORT_ROWS (default 200,000) generated orders is imported. Prints p50 / p99 / max of the member's calls
 * each way, the errors (non-200, or no answer in 10 s) and how long the import took.
 */
export async function importEmbeddedLatencyBench(): Promise<void> {
  const rows = Number(process.env.BENCH_IMPORT_ROWS ?? 200_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-bench-embedded-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { DATABASE_URL: _d, REDIS_URL: _r, ...env } = process.env;
  const owner = { username: 'owner', password: randomBytes(9).toString('base64url') };
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...env, NODE_ENV: 'test', LOG_LEVEL: 'warn', PORT: String(port), PUBLIC_URL: base, DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '100000000', ADMIN_USERNAME: owner.username, ADMIN_PASSWORD: owner.password, SANDBOX: 'true' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error('the server exited');
      if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
      if (i > 1200) throw new Error('the server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const json = async (url: string, init?: RequestInit) => (await (await fetch(`${base}${url}`, init)).json()) as any;
    const post = (url: string, body: object, headers: Record<string, string> = {}) =>
      json(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const staff = { authorization: `Bearer ${(await post('/api/admin/login', owner)).token}` };
    const person = await post('/sandbox/api/people', { nickname: 'bench' });
    const { code } = await post(`/sandbox/api/people/${person.id}/login-code`, {});
    const member = { authorization: `Bearer ${(await post('/api/mp/login', { code })).token}` };

    /** 4 loops of GET /api/mp/me until `until` resolves (or for `ms`), each call's latency kept. */
    const measure = async (stop: Promise<unknown>, url = '/api/mp/me') => {
      const latencies: number[] = [];
      const slow: Array<{ atS: number; ms: number }> = [];
      const t00 = performance.now();
      let errors = 0;
      let done = false;
      void stop.finally(() => (done = true));
      const loop = async () => {
        while (!done) {
          const t0 = performance.now();
          try {
            const res = await fetch(`${base}${url}`, { headers: member, signal: AbortSignal.timeout(10_000) });
            await res.arrayBuffer();
            if (res.status !== 200) errors++;
          } catch {
            errors++;
          }
          const ms = performance.now() - t0;
          latencies.push(ms);
          if (ms > 500) slow.push({ atS: Math.round((t0 - t00) / 100) / 10, ms: Math.round(ms) });
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await Promise.all([loop(), loop(), loop(), loop()]);
      latencies.sort((a, b) => a - b);
      const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10;
      return { calls: latencies.length, errors, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), over500Ms: slow };
    };

    const alone = await measure(new Promise((r) => setTimeout(r, 10_000)));

    const file = path.join(dataDir, 'bench-orders.csv');
    await generate(file, rows);
    const form = new FormData();
    form.set('channelKind', 'tmall');
    form.set('orders', new Blob([fs.readFileSync(file)]), 'ExportOrderList.csv');
    const started = Date.now();
    const upload = await json('/api/admin/imports', { method: 'POST', headers: staff, body: form });
    if (!upload.id) throw new Error(`upload refused: ${JSON.stringify(upload)}`);
    let final: any;
    const phases: Array<{ atS: number; phase: string; percent: number }> = [];
    const finished = (async () => {
      for (;;) {
        final = await json(`/api/admin/imports/${upload.id}`, { headers: staff });
        if (phases.at(-1)?.phase !== final.phase) phases.push({ atS: Math.round((Date.now() - started) / 100) / 10, phase: final.phase, percent: final.progress.percent });
        if (final.status === 'succeeded' || final.status === 'failed') return;
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const [during, healthz] = await Promise.all([measure(finished), process.env.BENCH_HEALTHZ ? measure(finished, '/healthz') : undefined]);
    report('import-embedded-latency', {
      rows,
      import: { status: final.status, seconds: Math.round((Date.now() - started) / 100) / 10, summary: final.summary, error: final.error },
      phases,
      meAlone: alone,
      meDuringImport: during,
      ...(healthz ? { healthzDuringImport: healthz } : {}),
    });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
