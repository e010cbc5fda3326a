import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
}

const started = new Set<ChildProcess>();

/**
 * Starts `npm start`'s command (node --import tsx server/main.ts) with a clean environment plus `env`. `port()` is the
 * port the server logged its own listen on: with PORT=0 the OS picks it, so no other process can be answering there.
 */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), LOG_LEVEL: 'info', DEMO_SEED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exited = new Promise<Run>((resolve) =>
    child.on('exit', (code) => {
      started.delete(child);
      resolve({ code, ...out });
    }),
  );
  const lines = () =>
    out.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  /** The port from the server's own "Server listening at" line, once its /readyz answers 200. */
  async function ready(ms = 40_000): Promise<number> {
    const end = Date.now() + ms;
    let port: number | undefined;
    while (Date.now() < end) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was ready: ${out.stderr}`);
      port ??= lines()
        .map((l) => /^Server listening at http:\/\/127\.0\.0\.1:(\d+)$/.exec(String(l.msg))?.[1])
        .find((p) => p !== undefined) as number | undefined;
      if (port !== undefined) {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        if (res?.status === 200) return Number(port);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`server did not become ready: ${out.stdout.slice(-2000)} ${out.stderr}`);
  }
  return { child, exited, ready, lines, stderr: () => out.stderr };
}

/** Kills what is still running: a readiness that fails (or any failed expectation) leaves no server behind. */
async function stopAll(): Promise<void> {
  for (const child of [...started]) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    started.delete(child);
  }
}
afterEach(stopAll);

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

  it('boxes the demo owner’s password on stderr for the person at the terminal and keeps it out of the log', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-demo-'));
    try {
      const run = start({ DATA_DIR: dataDir, PORT: '0', DEMO_SEED: 'true', SANDBOX: 'true' });
      const port = await run.ready();
      let box: RegExpExecArray | null = null;
      for (let i = 0; i < 600 && !(box = /\|\s+password: (\S+)\s+\|/.exec(run.stderr())); i++) await new Promise((r) => setTimeout(r, 100));
      expect(box).not.toBeNull();
      const password = box![1]!;
      expect(run.stderr()).toContain('SANDBOX ONLY');
      expect(run.stderr()).toMatch(/\|\s+username: demo\s+\|/);
      const login = await post(port, '/api/admin/login', { username: 'demo', password });
      expect(login.status).toBe(200);
      const created = run.lines().find((l) => String(l.msg).includes('demo owner demo created'));
      expect(created).toMatchObject({ level: 40, username: 'demo' });
      run.child.kill('SIGTERM');
      const exited = await run.exited;
      expect(exited.code).toBe(0);
      expect(exited.stdout).not.toContain(password);
    } finally {
      await stopAll();
      fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });

  it('serves embedded with nothing installed, logs each request under its request id, shuts down cleanly on SIGTERM and keeps its data across a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-boot-'));
    const env = { DATA_DIR: dataDir, PORT: '0', ADMIN_USERNAME: 'owner', ADMIN_PASSWORD: 'boot-password-1' };
    try {
      const first = start(env);
      let port = await first.ready();
      const login = await post(port, '/api/admin/login', { username: 'owner', password: 'boot-password-1' });
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      const created = await post(
        port,
        '/api/admin/staff',
        { username: 'kept-operator', password: 'operator-password', role: 'operator' },
        { authorization: `Bearer ${token}`, 'x-request-id': 'trace-boot-1' },
      );
      expect(created.status).toBe(201);
      first.child.kill('SIGTERM');
      expect((await first.exited).code).toBe(0);
      // The request id: the caller's x-request-id when given, else a fresh UUID; the token never reaches the log.
      const incoming = first.lines().filter((l) => l.msg === 'incoming request') as Array<{ reqId: string; req: { url: string } }>;
      expect(incoming.filter((l) => l.req.url === '/api/admin/staff').map((l) => l.reqId)).toEqual(['trace-boot-1']);
      expect(incoming.find((l) => l.req.url === '/api/admin/login')!.reqId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(first.lines().filter((l) => Number(l.level) >= 50)).toEqual([]);
      expect((await first.exited).stdout).not.toContain(token);

      const second = start(env);
      port = await second.ready();
      const again = await post(port, '/api/admin/login', { username: 'kept-operator', password: 'operator-password' });
      expect(again.status).toBe(200);
      // The session from the first run is still valid: sessions live in the database, not in memory.
      const me = await fetch(`http://127.0.0.1:${port}/api/admin/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    } finally {
      await stopAll(); // before its data directory goes: a server still writing there would keep it from going
      fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });
});
