import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import autocannon from 'autocannon';
import { Client } from 'pg';

export interface LoadResult {
  name: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export interface Target {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a server script (scripts/bench/servers/*) in its own process; it prints `listening <url>` when ready.
 * BENCH_NODE_ARGS passes flags to that process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where time goes).
 */
export async function startTarget(script: string, env: Record<string, string | undefined> = {}): Promise<Target> {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(__dirname, 'servers', script)], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = buf.match(/listening (\S+)/);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface LoadOptions {
  name: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** One request body, or a function giving a fresh request per call. */
  body?: string;
  requests?: Array<{ method?: string; path?: string; headers?: Record<string, string>; body?: string }>;
  connections?: number;
  seconds?: number;
  /** Fixed rate (requests per second across all connections), for latency at a given load. */
  rate?: number;
  /** Stop after exactly this many requests (instead of after `seconds`). */
  amount?: number;
}

export async function load(opts: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 8) }),
    url: opts.url,
    method: opts.method ?? 'GET',
    headers: opts.headers,
    body: opts.body,
    requests: opts.requests as autocannon.Request[] | undefined,
    connections: opts.connections ?? 50,
    overallRate: opts.rate,
  });
  return {
    name: opts.name,
    requestsPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

export const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

export function report(bench: string, figures: object): void {
  process.stdout.write(`${JSON.stringify({ bench, ...figures }, null, 2)}\n`);
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database on the server of DATABASE_URL, dropped afterwards, so a benchmark never touches real data. */
export async function benchDatabase(base: string): Promise<BenchDatabase> {
  const name = `snowball_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    },
  };
}

/** Sends one request per item with setupRequest, in order, never reusing an item. */
export function sequence<T>(items: T[], build: (item: T) => { method?: string; path?: string; headers?: Record<string, string>; body?: string }) {
  let i = 0;
  return [{ setupRequest: (req: object) => ({ ...req, ...build(items[i++ % items.length]!) }) } as never];
}

/** A port free right now, for a server that must know its own URL before it listens. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
