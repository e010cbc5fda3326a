import net from 'node:net';
import { buildTestApp, type TestApp, type TestAppOptions } from './app';

/** A port the OS has just handed out and taken back: another process may take it before it is listened on again. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface SandboxTestApp extends TestApp {
  readonly baseUrl: string;
  /** The sandbox control API over HTTP: POST/GET/PUT with JSON, answers the parsed body and status. */
  sandbox<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/**
 * Builds an app that must know its own address before it listens (PUBLIC_URL: the sandbox calls back to it) and
 * listens there. The port is free when picked but may be taken before the app binds it: then this app is closed and
 * another port tried, so a port taken in between never fails a test.
 */
export async function listenOnFreePort(build: (port: number) => Promise<TestApp>): Promise<{ t: TestApp; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const t = await build(port);
    try {
      await t.app.listen({ port, host: '127.0.0.1' });
      return { t, port };
    } catch (err) {
      await t.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

async function listenOn(port: number, build: (port: number) => Promise<TestApp>): Promise<{ t: TestApp; port: number }> {
  const t = await build(port);
  try {
    await t.app.listen({ port, host: '127.0.0.1' });
  } catch (err) {
    await t.close();
    throw err;
  }
  return { t, port };
}

/**
 * The real app in sandbox mode, listening on a real port so the sandbox and the app talk over HTTP. `port`: that
 * port and no other (a restart at the address WeChat Pay was given as notify_url), else a free one.
 */
export async function buildSandboxApp(env: Record<string, string> = {}, options: TestAppOptions & { port?: number } = {}): Promise<SandboxTestApp> {
  const { port: fixed, ...appOptions } = options;
  const build = (p: number) => buildTestApp({ SANDBOX: 'true', PORT: String(p), PUBLIC_URL: `http://127.0.0.1:${p}`, ...env }, undefined, appOptions);
  const { t, port } = fixed === undefined ? await listenOnFreePort(build) : await listenOn(fixed, build);
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    ...t,
    baseUrl,
    async sandbox(method, path, body) {
      const res = await fetch(`${baseUrl}/sandbox/api${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
  };
}

export const eventually = async <T>(fn: () => T | undefined, timeoutMs = 5_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};
