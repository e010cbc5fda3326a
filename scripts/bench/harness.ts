import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
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
  /** The server's process id, for its CPU time. */
  pid: number;
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
    pid: child.pid!,
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

export interface OpenLoopOptions {
  name: string;
  url: string;
  /** Requests per second, sent evenly spaced whatever the answers do (an open loop, as real arrivals are). */
  rate: number;
  requests: Array<{ method: string; path: string; headers?: Record<string, string>; body?: string }>;
  /** Sockets the client may use at once; a request waits for a free one, and that wait counts in its latency. */
  maxSockets?: number;
}

/**
 * Sends `requests` at a fixed rate, evenly spaced (autocannon's rate sends each second's share in a burst at
 * the start of the second, which measures the burst, not the rate). Latency runs from when a request was due,
 * not from when a socket took it, so a server that falls behind shows it (no coordinated omission).
 * Requests are written as prepared bytes on keep-alive sockets, one request at a time per socket, so that the
 * load generator takes little of the CPU it shares with the server.
 */
export async function openLoop(opts: OpenLoopOptions): Promise<LoadResult> {
  const target = new URL(opts.url);
  const maxSockets = opts.maxSockets ?? 256;
  const wire = opts.requests.map((r) => {
    const body = Buffer.from(r.body ?? '');
    const headers = { host: target.host, 'content-length': String(body.length), ...r.headers };
    const head = `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    return Buffer.concat([Buffer.from(head), body]);
  });
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const waiting: Array<{ bytes: Buffer; due: number }> = [];
  const idle: RawConnection[] = [];
  let open = 0;
  let sent = 0;
  let settled = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const settle = (latency: number | null, status: number) => {
    if (latency === null) errors++;
    else {
      latencies.push(latency);
      if (status < 200 || status >= 300) non2xx++;
    }
    if (++settled === wire.length) done();
  };
  const dispatch = () => {
    while (waiting.length > 0) {
      let conn = idle.pop();
      if (!conn) {
        if (open >= maxSockets) return;
        open++;
        conn = new RawConnection(target, (c, latency, status) => {
          settle(latency, status);
          if (latency === null) open--;
          else idle.push(c);
          dispatch();
        });
      } else if (conn.closed) {
        open--; // the server closed it while idle
        continue;
      }
      const next = waiting.shift()!;
      conn.send(next.bytes, next.due);
    }
  };
  const start = performance.now();
  const intervalMs = 1000 / opts.rate;
  const tick = () => {
    const now = performance.now();
    while (sent < wire.length && start + sent * intervalMs <= now) {
      waiting.push({ bytes: wire[sent]!, due: start + sent * intervalMs });
      sent++;
    }
    dispatch();
    if (sent < wire.length) setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
  };
  tick();
  await finished;
  const seconds = (performance.now() - start) / 1000;
  for (const c of idle) c.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 10) / 10;
  return { name: opts.name, requestsPerSec: Math.round(latencies.length / seconds), p50Ms: at(0.5), p99Ms: at(0.99), non2xx, errors };
}

/** One keep-alive HTTP/1.1 connection that sends prepared requests and reads answers with a Content-Length. */
class RawConnection {
  private readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private due = 0;
  private busy = false;
  closed = false;

  constructor(
    target: URL,
    /** latencyMs null: the request in flight failed (the connection is gone). */
    private readonly onAnswer: (conn: RawConnection, latencyMs: number | null, status: number) => void,
  ) {
    this.socket = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', () => this.lost());
    this.socket.on('close', () => this.lost());
  }

  send(bytes: Buffer, due: number): void {
    this.due = due;
    this.busy = true;
    this.socket.write(bytes);
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.buffer.subarray(0, headEnd).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < headEnd + 4 + length) return;
    this.buffer = this.buffer.subarray(headEnd + 4 + length);
    this.busy = false;
    this.onAnswer(this, performance.now() - this.due, Number(head.slice(9, 12)));
  }

  private lost(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    if (this.busy) {
      this.busy = false;
      this.onAnswer(this, null, 0);
    }
  }
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

export interface CpuSplit {
  /** CPU milliseconds per request (or row) spent by each party during the measured phase. */
  appMs?: number;
  postgresMs: number;
  redisMs: number;
  loadGeneratorMs: number;
}

/**
 * Where the machine's CPU went during a measured phase: the app's process (when there is one), PostgreSQL's
 * processes (with `database`, only the backends of that database and the server's own), Redis, and the load
 * generator (this process, or an external command such as pgbench). The processes are sampled from /proc every
 * 100 ms by a process of its own (scripts/bench/cpu-sampler.ts): reading /proc here stalled the load generator's
 * event loop for up to 13 ms each time, and requests due meanwhile went out late and counted as slow.
 */
export async function cpuMeter(opts: { appPid?: number; loadCommand?: string; database?: string }): Promise<{ stop(per: number): Promise<CpuSplit> }> {
  const sampler = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'cpu-sampler.ts'), JSON.stringify(opts)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const answer = <T>() =>
    new Promise<T>((resolve, reject) => {
      sampler.once('message', (m) => resolve(m as T));
      sampler.once('exit', (code) => reject(new Error(`cpu sampler exited (${code})`)));
    });
  await answer<'ready'>();
  const self = process.cpuUsage();
  return {
    async stop(per: number) {
      const own = process.cpuUsage(self);
      const done = answer<{ appSeconds: number; postgresSeconds: number; redisSeconds: number; loadSeconds: number }>();
      sampler.send('stop');
      const used = await done;
      const ms = (seconds: number) => Math.round((seconds * 1000 * 1000) / per) / 1000;
      return {
        ...(opts.appPid ? { appMs: ms(used.appSeconds) } : {}),
        postgresMs: ms(used.postgresSeconds),
        redisMs: ms(used.redisSeconds),
        loadGeneratorMs: opts.loadCommand ? ms(used.loadSeconds) : ms((own.user + own.system) / 1e6),
      };
    },
  };
}
