import { randomUUID } from 'node:crypto';
import { unavailable } from '../infra/errors';
import type { KvStore } from '../infra/kv';

export interface FetchedToken {
  readonly accessToken: string;
  /** Seconds, as WeChat answers (7200). */
  readonly expiresIn: number;
}

interface Stored {
  accessToken: string;
  expireTime: number;
}

export interface SharedAccessTokenOptions {
  /** A refresher that dies holds the lock at most this long. */
  lockTtlMs?: number;
  /** How long a caller waits for another's refresh before giving up. */
  waitMs?: number;
  /** Treat a token as expired this long before WeChat does, so no call carries one that dies in flight. */
  marginMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One access token per app for every instance: kept in the shared store, refreshed by one caller at a time
 * (a lock in the store; the others wait and reuse what it fetched). Fetching a new token kills the old one within
 * minutes, so two instances refreshing independently would keep invalidating each other.
 */
export class SharedAccessToken {
  private readonly key: string;
  private readonly lockKey: string;
  private readonly lockTtlMs: number;
  private readonly waitMs: number;
  private readonly marginMs: number;

  constructor(
    private readonly kv: KvStore,
    appid: string,
    private readonly fetchToken: () => Promise<FetchedToken>,
    opts: SharedAccessTokenOptions = {},
  ) {
    this.key = `wechat:token:${appid}`;
    this.lockKey = `wechat:token-lock:${appid}`;
    this.lockTtlMs = opts.lockTtlMs ?? 15_000;
    this.waitMs = opts.waitMs ?? 20_000;
    this.marginMs = opts.marginMs ?? 5 * 60_000;
  }

  /** A valid token: the shared one, or a fresh one when it is missing or expired. */
  async get(): Promise<string> {
    const current = await this.read();
    return current ?? this.refresh();
  }

  /**
   * A token other than `stale` (the one WeChat just refused with 40001/42001), fetching one only if nobody
   * has already replaced it.
   */
  async refresh(stale?: string): Promise<string> {
    const deadline = Date.now() + this.waitMs;
    for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
      const current = await this.read();
      if (current && current !== stale) return current;
      const owner = randomUUID();
      if (await this.kv.setIfAbsent(this.lockKey, owner, this.lockTtlMs)) {
        try {
          const again = await this.read();
          if (again && again !== stale) return again;
          const fetched = await this.fetchToken();
          const ttlMs = Math.max(fetched.expiresIn * 1000 - this.marginMs, 60_000);
          const stored: Stored = { accessToken: fetched.accessToken, expireTime: Date.now() + ttlMs };
          await this.kv.set(this.key, JSON.stringify(stored), ttlMs);
          return fetched.accessToken;
        } finally {
          await this.kv.delIfEquals(this.lockKey, owner);
        }
      }
      if (Date.now() >= deadline) throw unavailable('wechat_token_timeout', 'Timed out waiting for another instance to refresh the WeChat access token');
      await sleep(wait);
    }
  }

  private async read(): Promise<string | undefined> {
    const raw = await this.kv.get(this.key);
    if (!raw) return undefined;
    try {
      const stored = JSON.parse(raw) as Stored;
      return stored.expireTime > Date.now() ? stored.accessToken : undefined;
    } catch {
      return undefined;
    }
  }
}
