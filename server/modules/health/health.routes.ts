import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../infra/db';
import type { KvStore } from '../../infra/kv';

const check = async (fn: () => Promise<void>, timeoutMs = 2_000): Promise<'ok' | string> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs)))]);
    return 'ok';
  } catch (err) {
    return (err as Error).message || 'error';
  } finally {
    clearTimeout(timer);
  }
};

/** Liveness (the process answers) and readiness (the database and the store answer). */
export const healthRoutes: FastifyPluginAsyncZod<{ db: Db; kv: KvStore }> = async (app, { db, kv }) => {
  app.get(
    '/healthz',
    { config: { rateLimit: false }, schema: { tags: ['ops'], response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['ops'],
        response: {
          200: z.object({ status: z.literal('ready'), database: z.string(), store: z.string() }),
          503: z.object({ code: z.literal('not_ready'), message: z.string(), database: z.string(), store: z.string() }),
        },
      },
    },
    async (_req, reply) => {
      const [database, store] = await Promise.all([check(() => db.ping()), check(() => kv.ping())]);
      if (database === 'ok' && store === 'ok') return { status: 'ready' as const, database, store };
      return reply.code(503).send({ code: 'not_ready' as const, message: 'A dependency is not reachable', database, store });
    },
  );
};
