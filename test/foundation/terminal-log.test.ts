import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * `npm start`'s command in a pseudo terminal (util-linux `script`), so its stdout is a TTY as when a person runs it:
 * LOG_FORMAT=auto then writes readable lines. Piped, as everywhere else in the tests and CI, it writes JSON
 * (test/foundation/boot.test.ts reads those lines).
 */
function startInTerminal(env: Record<string, string>) {
  const command = `${process.execPath} --import tsx server/main.ts`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), TERM: 'xterm', LOG_LEVEL: 'info', DEMO_SEED: 'false', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const text = () => out.replace(ANSI, '').replace(/\r/g, '');
  return {
    child,
    exited,
    text,
    raw: () => out,
    async port(ms = 60_000): Promise<number> {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${text()}`);
        const m = /INFO: Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(text());
        if (m) return Number(m[1]);
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no listen line: ${text()}`);
    },
  };
}

describe('the log in a terminal', () => {
  const hasScript = fs.existsSync('/usr/bin/script');

  (hasScript ? it : it.skip)('is readable lines with colours, not JSON, and still keeps the password and token out', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-tty-'));
    const run = startInTerminal({ DATA_DIR: dataDir, PORT: '0', ADMIN_USERNAME: 'owner', ADMIN_PASSWORD: 'terminal-password-1' });
    try {
      const port = await run.port();
      const login = await fetch(`http://127.0.0.1:${port}/api/admin/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'owner', password: 'terminal-password-1' }),
      });
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      const me = await fetch(`http://127.0.0.1:${port}/api/admin/me`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'tty-trace-1' } });
      expect(me.status).toBe(200);
      for (let i = 0; i < 50 && !/request completed[\s\S]*tty-trace-1|tty-trace-1[\s\S]*request completed/.test(run.text()); i++) await new Promise((r) => setTimeout(r, 100));

      const lines = run.text().split('\n').filter((l) => l.trim() !== '');
      // `[HH:MM:ss.mmm] LEVEL: message`, then its fields indented beneath.
      expect(lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Snowball is serving on /.test(l))).toBe(true);
      expect(lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: incoming request$/.test(l))).toBe(true);
      expect(run.text()).toMatch(/^\s+reqId: "tty-trace-1"$/m);
      expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
      expect(run.raw()).toMatch(ANSI);
      expect(run.text()).not.toContain(token);
      expect(run.text()).not.toContain('terminal-password-1');
    } finally {
      if (run.child.exitCode === null) {
        process.kill(-run.child.pid!, 'SIGTERM');
        await run.exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });
});
