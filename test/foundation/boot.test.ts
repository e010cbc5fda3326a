import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
}

/** Starts `npm start`'s command (node --import tsx server/main.ts) with a clean environment plus `env`. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exited = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, ...out })));
  return { child, exited };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

async function waitReady(port: number, ms = 40_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('server did not become ready');
}

const post = (port: number, url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${port}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('the process', () => {
  it('fails the boot with one clear line when DATABASE_URL points nowhere', async () => {
    const run = await start({ DATABASE_URL: 'postgres://snow:s3cret@127.0.0.1:1/snowball' }).exited;
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^Snowball failed to start: Cannot connect to the database at postgres:\/\/snow:\*\*\*@127\.0\.0\.1:1\/snowball: /);
    expect(run.stderr).not.toContain('s3cret');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('fails the boot naming the variable when a value is bad', async () => {
    const run = await start({ PORT: 'eighty' }).exited;
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^Invalid configuration: PORT /);
  });

  it('serves embedded with nothing installed, shuts down cleanly on SIGTERM and keeps its data across a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-boot-'));
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), ADMIN_USERNAME: 'owner', ADMIN_PASSWORD: 'boot-password-1' };
    try {
      const first = start(env);
      await waitReady(port);
      const login = await post(port, '/api/admin/login', { username: 'owner', password: 'boot-password-1' });
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      const created = await post(
        port,
        '/api/admin/staff',
        { username: 'kept-operator', password: 'operator-password', role: 'operator' },
        { authorization: `Bearer ${token}` },
      );
      expect(created.status).toBe(201);
      first.child.kill('SIGTERM');
      expect((await first.exited).code).toBe(0);

      const second = start(env);
      await waitReady(port);
      const again = await post(port, '/api/admin/login', { username: 'kept-operator', password: 'operator-password' });
      expect(again.status).toBe(200);
      // The session from the first run is still valid: sessions live in the database, not in memory.
      const me = await fetch(`http://127.0.0.1:${port}/api/admin/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });
});
