import type { FastifyInstance } from 'fastify';

/**
 * What makes a race test a race. Against PostgreSQL (DATABASE_URL) the racers hold connections of their own at once;
 * the embedded database serves every connection on PGlite's one session, one statement at a time, so there the same
 * test checks the outcome of interleaved, not simultaneous, transactions.
 */
export const PG_RACE = 'a race in PostgreSQL mode';
/** Races on the shared store: Redis (REDIS_URL) across round trips; the in-process store interleaves at its awaits. */
export const STORE_RACE = 'a race on the shared store (Redis in PostgreSQL + Redis mode)';

interface PoolLike {
  on(event: 'acquire' | 'release', fn: () => void): void;
  off(event: 'acquire' | 'release', fn: () => void): void;
}

/**
 * Counts the apps' database connections checked out at the same moment from now until `done()`. In PostgreSQL mode
 * `done()` asserts that more than one was: the racers really ran in separate transactions at once.
 */
export function watchConnections(...apps: FastifyInstance[]): { done(): number } {
  const pools = apps.map((app) => (app.infra.db.dataSource.driver as unknown as { master: PoolLike }).master);
  let busy = 0;
  let peak = 0;
  const acquire = () => {
    busy++;
    peak = Math.max(peak, busy);
  };
  const release = () => {
    busy = Math.max(busy - 1, 0);
  };
  for (const pool of pools) {
    pool.on('acquire', acquire);
    pool.on('release', release);
  }
  return {
    done() {
      for (const pool of pools) {
        pool.off('acquire', acquire);
        pool.off('release', release);
      }
      if (process.env.DATABASE_URL) expect(peak).toBeGreaterThan(1);
      return peak;
    },
  };
}
