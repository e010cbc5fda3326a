import type { KvStore } from './kv';

type Callback = (err: Error | null, res?: { current: number; ttl: number }) => void;

/**
 * A @fastify/rate-limit store over the shared key-value store: one counter per key and window,
 * so every instance counts the same requests (Redis) and the embedded run needs nothing else.
 */
export function kvRateLimitStore(kv: KvStore) {
  return class KvRateLimitStore {
    private readonly namespace: string;

    constructor(params: object = {}) {
      const { routeInfo } = params as { routeInfo?: { method?: string | string[]; url?: string } };
      const route = routeInfo?.url ? `${routeInfo.method}:${routeInfo.url}` : 'global';
      this.namespace = `rl:${route}:`;
    }

    incr(key: string, cb: Callback, timeWindow: number): void {
      kv.incr(this.namespace + key, timeWindow).then(
        ({ count, ttlMs }) => cb(null, { current: count, ttl: ttlMs > 0 ? ttlMs : timeWindow }),
        (err: Error) => cb(err),
      );
    }

    child(params: object) {
      return new KvRateLimitStore(params);
    }
  };
}
