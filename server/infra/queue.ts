import './pg-boss-timers'; // before pg-boss loads
import PgBoss from 'pg-boss';
import type { FastifyBaseLogger } from 'fastify';
import type { Ctx } from './db';

export interface JobDefinition<T extends object> {
  readonly name: string;
  readonly handler: (data: T, job: { id: string; retryCount: number }) => Promise<void>;
  /** Retries before the job is left failed (visible in pgboss.job); default 5 with backoff. */
  readonly retryLimit?: number;
  readonly retryDelaySeconds?: number;
  readonly expireInSeconds?: number;
  /** Jobs one instance runs at once for this queue. */
  readonly concurrency?: number;
}

export interface SendOptions {
  /** At most one queued job per key (e.g. one user-info fetch per openid). */
  singletonKey?: string;
  startAfter?: Date | number;
  /** Stable id: sending the same id twice queues one job. */
  id?: string;
}

/**
 * Durable jobs shared by every instance, on the same Postgres (pg-boss).
 * `send(ctx, …)` inside a transaction enqueues in that transaction: the job exists only if the change commits.
 */
export class JobQueue {
  private readonly boss: PgBoss;
  private readonly definitions = new Map<string, JobDefinition<any>>();
  private readonly schedules: Array<{ name: string; cron: string; tz: string }> = [];
  private started = false;

  constructor(
    connectionString: string,
    private readonly log: FastifyBaseLogger,
    private readonly options: { workers: boolean; pollingIntervalSeconds?: number; max?: number } = { workers: true },
  ) {
    this.boss = new PgBoss({
      connectionString,
      max: options.max ?? 3,
      application_name: 'snowball-queue',
      schema: 'pgboss',
      supervise: options.workers,
      schedule: options.workers,
      migrate: true,
    });
    this.boss.on('error', (err) => this.log.error({ err }, 'queue error'));
  }

  /** Modules declare their jobs before start; unknown names are refused at send time. */
  define<T extends object>(def: JobDefinition<T>): void {
    if (this.started) throw new Error(`queue already started: define ${def.name} before start`);
    this.definitions.set(def.name, def);
  }

  /** Runs a defined job on a cron schedule; pg-boss keeps one schedule per name across all instances. */
  schedule(name: string, cron: string, tz: string): void {
    this.schedules.push({ name, cron, tz });
  }

  async start(): Promise<void> {
    await this.boss.start();
    for (const def of this.definitions.values()) {
      const existing = await this.boss.getQueue(def.name);
      const settings = {
        name: def.name,
        retryLimit: def.retryLimit ?? 5,
        retryDelay: def.retryDelaySeconds ?? 5,
        retryBackoff: true,
        expireInSeconds: def.expireInSeconds ?? 15 * 60,
      };
      if (!existing) {
        try {
          await this.boss.createQueue(def.name, settings);
        } catch (err) {
          if (!(await this.boss.getQueue(def.name))) throw err; // another instance created it first: fine
        }
      }
      if (this.options.workers) {
        const concurrency = def.concurrency ?? 1;
        for (let i = 0; i < concurrency; i++) {
          await this.boss.work<object>(
            def.name,
            { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 1 },
            async ([job]) => {
              if (!job) return;
              const retryCount = (job as unknown as { retryCount?: number }).retryCount ?? 0;
              await def.handler(job.data, { id: job.id, retryCount });
            },
          );
        }
      }
    }
    if (this.options.workers) {
      for (const s of this.schedules) await this.boss.schedule(s.name, s.cron, {}, { tz: s.tz });
    }
    this.started = true;
  }

  async send<T extends object>(ctx: Ctx, name: string, data: T, opts: SendOptions = {}): Promise<string | null> {
    const def = this.definitions.get(name);
    if (!def) throw new Error(`unknown job ${name}`);
    const em = ctx.em;
    const db = em?.queryRunner?.isTransactionActive
      ? { executeSql: async (text: string, values: unknown[]) => ({ rows: await em.query(text, values) }) }
      : undefined;
    return this.boss.send(name, data, {
      singletonKey: opts.singletonKey,
      startAfter: opts.startAfter,
      id: opts.id,
      db,
    } as PgBoss.SendOptions);
  }

  /** Counts of jobs by state for one queue (tests, metrics, the console). */
  async counts(name: string): Promise<Record<string, number>> {
    const rows = await this.sql<{ state: string; n: string }>(
      'SELECT state, count(*)::text AS n FROM pgboss.job WHERE name = $1 GROUP BY state',
      [name],
    );
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  private async sql<R>(text: string, values: unknown[]): Promise<R[]> {
    return (await this.boss.getDb().executeSql(text, values)).rows as R[];
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    // pg-boss removes stopped workers from a loop that checks once a second, after stop() has returned; let it
    // finish so nothing of the queue runs once the process (or a test) thinks it is closed.
    if (this.options.workers) await new Promise((resolve) => setTimeout(resolve, 1_100));
  }
}
