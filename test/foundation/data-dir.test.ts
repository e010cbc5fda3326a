import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ORDER_HEADER, orderLine } from '../taobao/taobao-files';
import { multipart } from '../helpers/multipart';

/**
 * The embedded server as `npm start` runs it, a real process on a temporary DATA_DIR, with the commands beside it:
 * one process owns the directory, and a command run while the server is up works through the server's database.
 */
const ROOT = path.resolve(__dirname, '../..');
const OWNER = { username: 'owner', password: 'owner-password-1' };

interface Server {
  child: ChildProcess;
  /** Known once the server has logged its own listen (PORT=0: the OS picks it, nothing else can answer there). */
  port: number;
  output(): string;
  exited: Promise<number | null>;
}

describe('one process owns an embedded DATA_DIR', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-datadir-'));
  const running: Server[] = [];
  // The embedded database in every mode: DATABASE_URL and REDIS_URL are not passed on.
  const env = (extra: Record<string, string> = {}) => {
    const { DATABASE_URL: _d, REDIS_URL: _r, ...rest } = process.env;
    return { ...rest, NODE_ENV: 'test', LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '100000', DATA_DIR: dataDir, ADMIN_USERNAME: OWNER.username, ADMIN_PASSWORD: OWNER.password, ...extra };
  };

  function start(): Server {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env: env({ PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const s = { child, port: 0, output: () => out, exited };
    running.push(s);
    return s;
  }

  async function ready(s: Server): Promise<void> {
    for (let i = 0; i < 400; i++) {
      if (s.child.exitCode !== null) throw new Error(`server exited: ${s.output()}`);
      s.port ||= Number(/"msg":"Server listening at http:\/\/127\.0\.0\.1:(\d+)"/.exec(s.output())?.[1] ?? 0);
      if (!s.port) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      try {
        if ((await fetch(`http://127.0.0.1:${s.port}/readyz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server not ready: ${s.output()}`);
  }

  async function stop(s: Server, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    s.child.kill(signal);
    return s.exited;
  }

  function command(script: string, args: string[], npmEvent: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: env({ npm_lifecycle_event: npmEvent }), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  const login = async (port: number, body: object) =>
    fetch(`http://127.0.0.1:${port}/api/admin/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  afterAll(async () => {
    for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) await stop(s, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends admin:create through the running server, refuses a second server, and keeps everything across a restart', async () => {
    const first = start();
    await ready(first);
    const lock = JSON.parse(fs.readFileSync(path.join(dataDir, 'snowball.lock'), 'utf8'));
    expect(lock).toMatchObject({ pid: first.child.pid, role: 'server', databaseUrl: expect.stringMatching(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/) });

    const created = await command('scripts/admin-create.ts', ['--username', 'alice', '--role', 'operator', '--password', 'alice-password-1'], 'admin:create');
    expect(created).toMatchObject({ code: 0, stdout: 'Created operator "alice"\n' });
    expect(created.stderr).toContain(`belongs to the running Snowball server (pid ${first.child.pid}): working through its database`);
    // The server sees the account at once, without a restart.
    const alice = await login(first.port, { username: 'alice', password: 'alice-password-1' });
    expect(alice.status).toBe(200);

    const second = start();
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`DATA_DIR ${dataDir} is in use by a running Snowball server (pid ${first.child.pid}`);
    expect(second.output()).toContain('stop that server first, or give this one another DATA_DIR');
    // The refused server took nothing from the first: it still answers, and still owns the directory.
    expect((await login(first.port, { username: 'alice', password: 'alice-password-1' })).status).toBe(200);
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'snowball.lock'), 'utf8')).pid).toBe(first.child.pid);

    expect(await stop(first)).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'snowball.lock'))).toBe(false);
    const again = start();
    await ready(again);
    expect((await login(again.port, { username: 'alice', password: 'alice-password-1' })).status).toBe(200);
    expect(await stop(again)).toBe(0);
  }, 180_000);

  it('takes over the lock a killed server left, and finishes the import that server was running', async () => {
    const first = start();
    await ready(first);
    const token = ((await (await login(first.port, OWNER)).json()) as { token: string }).token;
    const rows = Array.from({ length: 20_000 }, (_, i) => orderLine({ orderNo: String(4700000000000000000n + BigInt(i)), nick: `k**${i % 97}` }));
    const file = path.join(dataDir, 'ExportOrderList.csv');
    fs.writeFileSync(file, [ORDER_HEADER.join(','), ...rows].join('\r\n') + '\r\n');
    const body = multipart({ channelKind: 'taobao' }, { orders: file });
    const res = await fetch(`http://127.0.0.1:${first.port}/api/admin/imports`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...body.headers }, body: body.payload });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    // Killed while it reads the file: nothing of the import is kept, the record still says running.
    // Killed once the import runs (its record says so, or the server is too busy with it to answer at once).
    let seen = '';
    for (let i = 0; i < 600 && seen !== 'running'; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${first.port}/api/admin/imports/${id}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(1000) });
        seen = ((await r.json()) as { status: string }).status;
      } catch {
        seen = 'running';
      }
      if (seen !== 'running') await new Promise((r) => setTimeout(r, 50));
    }
    await stop(first, 'SIGKILL');
    expect(seen).toBe('running');
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'snowball.lock'), 'utf8')).pid).toBe(first.child.pid);

    const next = start();
    await ready(next);
    const auth = { authorization: `Bearer ${((await (await login(next.port, OWNER)).json()) as { token: string }).token}` };
    let view: any;
    for (let i = 0; i < 1200; i++) {
      view = await (await fetch(`http://127.0.0.1:${next.port}/api/admin/imports/${id}`, { headers: auth })).json();
      if (view.status === 'succeeded' || view.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(next.output()).toContain('imports interrupted by a stop were queued again');
    expect(view).toMatchObject({ status: 'succeeded', phase: 'done', progress: { percent: 100 }, summary: { read: 20_000, inserted: 20_000, rejected: 0 } });
    expect(await stop(next)).toBe(0);
  }, 240_000);
});
