import { createClient, type RedisClientType } from 'redis';

/**
 * The small key-value store every instance shares: Redis in production, process memory when embedded.
 * Holds the WeChat access token, dedupe marks, rate-limit counters and short-lived conversation state.
 */
export interface KvStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when absent (a lock or a dedupe mark); true when this caller set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Increments a counter whose TTL starts at its first increment. */
  incr(key: string, ttlMs: number): Promise<{ count: number; ttlMs: number }>;
  /** Takes one increment back from a live counter: never below zero, never reviving one that expired; the TTL stays. */
  decr(key: string): Promise<void>;
  del(key: string): Promise<void>;
  /** Deletes only if the value still matches: releases a lock this caller holds, never another's. */
  delIfEquals(key: string, value: string): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

interface Entry {
  value: string;
  expiresAt: number; // Infinity when no TTL
}

export class MemoryKv implements KvStore {
  readonly kind = 'memory' as const;
  private readonly map = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly prefix = '') {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const k = this.prefix + key;
    const e = this.map.get(k);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.map.delete(k);
      return undefined;
    }
    return e;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, e] of this.map) if (e.expiresAt <= now) this.map.delete(k);
  }

  async get(key: string) {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number) {
    this.map.set(this.prefix + key, { value, expiresAt: ttlMs ? Date.now() + ttlMs : Infinity });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number) {
    if (this.live(key)) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async incr(key: string, ttlMs: number) {
    const e = this.live(key);
    if (!e) {
      await this.set(key, '1', ttlMs);
      return { count: 1, ttlMs };
    }
    e.value = String(Number(e.value) + 1);
    return { count: Number(e.value), ttlMs: e.expiresAt === Infinity ? -1 : e.expiresAt - Date.now() };
  }

  async decr(key: string) {
    const e = this.live(key);
    if (e && Number(e.value) > 0) e.value = String(Number(e.value) - 1);
  }

  async del(key: string) {
    this.map.delete(this.prefix + key);
  }

  async delIfEquals(key: string, value: string) {
    if (this.live(key)?.value !== value) return false;
    this.map.delete(this.prefix + key);
    return true;
  }

  async ping() {}

  async close() {
    clearInterval(this.sweeper);
    this.map.clear();
  }
}

const DECR_LIVE = "local v = tonumber(redis.call('GET', KEYS[1])) if v and v > 0 then return redis.call('DECR', KEYS[1]) end return 0";
const DEL_IF_EQUALS = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

export class RedisKv implements KvStore {
  readonly kind = 'redis' as const;

  private constructor(
    private readonly client: RedisClientType,
    private readonly prefix: string,
  ) {}

  static async connect(url: string, prefix = 'snowball:'): Promise<RedisKv> {
    const client = createClient({
      url,
      socket: { connectTimeout: 5_000, reconnectStrategy: (retries) => Math.min(retries * 100, 2_000) },
    }) as RedisClientType;
    // Errors surface through commands and /readyz; the event only needs a listener so it does not crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      await client.destroy?.();
      throw new Error(`Cannot connect to Redis at ${url.replace(/\/\/([^@]*)@/, '//***@')}: ${(err as Error).message}`);
    }
    return new RedisKv(client, prefix);
  }

  async get(key: string) {
    return (await this.client.get(this.prefix + key)) as string | null;
  }

  async set(key: string, value: string, ttlMs?: number) {
    await this.client.set(this.prefix + key, value, ttlMs ? { expiration: { type: 'PX', value: ttlMs } } : undefined);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number) {
    const r = await this.client.set(this.prefix + key, value, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
    return r === 'OK';
  }

  async incr(key: string, ttlMs: number) {
    const k = this.prefix + key;
    const [count, , ttl] = (await this.client.multi().incr(k).pExpire(k, ttlMs, 'NX').pTTL(k).exec()) as unknown as [number, number, number];
    return { count: Number(count), ttlMs: Number(ttl) };
  }

  async decr(key: string) {
    await this.client.eval(DECR_LIVE, { keys: [this.prefix + key], arguments: [] });
  }

  async del(key: string) {
    await this.client.del(this.prefix + key);
  }

  async delIfEquals(key: string, value: string) {
    const r = await this.client.eval(DEL_IF_EQUALS, { keys: [this.prefix + key], arguments: [value] });
    return Number(r) === 1;
  }

  async ping() {
    await this.client.ping();
  }

  async close() {
    if (this.client.isOpen) await this.client.close();
  }
}

export async function createKv(redisUrl: string | undefined, prefix?: string): Promise<KvStore> {
  return redisUrl ? RedisKv.connect(redisUrl, prefix) : new MemoryKv(prefix);
}
