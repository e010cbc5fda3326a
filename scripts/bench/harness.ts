import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';

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

/** Starts a server script (scripts/bench/servers/*) in its own process; it prints `listening <url>` when ready. */
export async function startTarget(script: string, env: Record<string, string | undefined> = {}): Promise<Target> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'servers', script)], {
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
}

export async function load(opts: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: opts.url,
    method: opts.method ?? 'GET',
    headers: opts.headers,
    body: opts.body,
    requests: opts.requests as autocannon.Request[] | undefined,
    connections: opts.connections ?? 50,
    duration: opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 8),
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
