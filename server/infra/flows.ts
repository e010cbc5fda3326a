import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Ctx, Db } from './db';
import { AppError } from './errors';
import type { JobQueue } from './queue';

export const RUN_FLOW = 'flows.run';

/** What a flow carries from step to step: its input, then whatever each step recorded (JSON). */
export type FlowState = Record<string, unknown>;

/**
 * One step of a flow. `run` is idempotent (it may run again after a crash, before its completion was recorded) and
 * answers what it wants recorded for the steps after it and for its undo; `undo` gets the state as it was after the
 * run (the run's own record included) and is idempotent too.
 */
export interface FlowStep<S extends FlowState> {
  name: string;
  run(ctx: Ctx, state: S): Promise<Partial<S> | void>;
  undo?(ctx: Ctx, state: S): Promise<void>;
}

export interface FlowDefinition<S extends FlowState> {
  name: string;
  steps: readonly FlowStep<S>[];
}

export interface FlowRunView {
  id: string;
  flow: string;
  key: string;
  status: 'running' | 'undoing' | 'done' | 'undone' | 'stuck';
  nextStep: number;
  state: FlowState;
  error: string | null;
}

/**
 * A step that should be tried again rather than undone: WeChat unreachable or rate-limited. The job retries it
 * (pg-boss's backoff); any other error undoes the completed steps, in reverse.
 */
const retryable = (err: unknown) => err instanceof AppError && (err.kind === 'unavailable' || err.kind === 'rate_limited');

/** Test hooks: `afterStep` runs once a step's completion is recorded, before the next starts (a crash is thrown here). */
export interface FlowHooks {
  afterStep?(run: FlowRunView, stepIndex: number): Promise<void> | void;
}

/**
 * Flows that span WeChat and the database, as ordered steps on pg-boss. A run's progress is a row (flow_run): the
 * next step and the state; each step's completion is recorded before the next starts, so a crash between two steps
 * resumes at the next one (the job is retried, and every start queues the runs left open). A step that fails undoes
 * the completed ones in reverse; an undo that fails is retried, then the run is left `stuck` with the error.
 */
export class FlowRunner {
  private readonly flows = new Map<string, FlowDefinition<any>>();
  readonly hooks: FlowHooks = {};
  /** Runs this process is driving: a second job for one of them (a resume next to a retry) leaves it to the first. */
  private readonly active = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly log: FastifyBaseLogger,
  ) {}

  define<S extends FlowState>(def: FlowDefinition<S>): void {
    if (this.flows.has(def.name)) throw new Error(`flow ${def.name} is defined twice`);
    if (new Set(def.steps.map((s) => s.name)).size !== def.steps.length) throw new Error(`flow ${def.name}: step names repeat`);
    this.flows.set(def.name, def);
  }

  /**
   * Starts a run of `flow` for `key` (the same key answers the same run), in the caller's transaction: the run
   * exists, and its job is queued, only if the caller's change commits.
   */
  async start(ctx: Ctx, flow: string, key: string, input: FlowState): Promise<FlowRunView> {
    if (!this.flows.has(flow)) throw new Error(`unknown flow ${flow}`);
    return this.db.transaction(ctx, async (tx) => {
      const [row] = await this.db.rows(
        tx,
        `INSERT INTO flow_run (id, flow, key, status, state) VALUES ($1, $2, $3, 'running', $4::jsonb)
         ON CONFLICT (flow, key) DO NOTHING RETURNING *`,
        [randomUUID(), flow, key, JSON.stringify(input)],
      );
      if (!row) return (await this.find(tx, flow, key))!;
      await this.queue.send(tx, RUN_FLOW, { runId: row.id }, { singletonKey: `flow:${row.id}` });
      return view(row);
    });
  }

  async find(ctx: Ctx, flow: string, key: string): Promise<FlowRunView | null> {
    const [row] = await this.db.rows(ctx, 'SELECT * FROM flow_run WHERE flow = $1 AND key = $2', [flow, key]);
    return row ? view(row) : null;
  }

  async get(ctx: Ctx, runId: string): Promise<FlowRunView> {
    const [row] = await this.db.rows(ctx, 'SELECT * FROM flow_run WHERE id = $1', [runId]);
    if (!row) throw new Error(`no flow run ${runId}`);
    return view(row);
  }

  /** Queues every run left open (a crash, a stop): called on every start; the steps' idempotence covers a double. */
  async resumeAll(ctx: Ctx = {}): Promise<number> {
    const open = await this.db.rows<{ id: string }>(ctx, "SELECT id FROM flow_run WHERE status IN ('running', 'undoing') ORDER BY created_at LIMIT 1000");
    for (const r of open) await this.queue.send(ctx, RUN_FLOW, { runId: r.id }, { singletonKey: `flow:${r.id}` });
    return open.length;
  }

  /** The job: runs the remaining steps (or undoes), one recorded step at a time, until the run is finished. */
  async run(runId: string, attempt = { retryCount: 0, retryLimit: Infinity }): Promise<FlowRunView> {
    if (this.active.has(runId)) return this.get({}, runId);
    this.active.add(runId);
    try {
      return await this.drive(runId, attempt);
    } finally {
      this.active.delete(runId);
    }
  }

  private async drive(runId: string, attempt: { retryCount: number; retryLimit: number }): Promise<FlowRunView> {
    for (;;) {
      const r = await this.get({}, runId);
      const def = this.flows.get(r.flow);
      if (!def) throw new Error(`flow ${r.flow} is not defined here`);
      if (r.status === 'running') {
        if (r.nextStep >= def.steps.length) {
          await this.db.rows({}, "UPDATE flow_run SET status = 'done', updated_at = now() WHERE id = $1 AND status = 'running'", [runId]);
          continue;
        }
        const step = def.steps[r.nextStep]!;
        let out: Partial<FlowState> | void;
        try {
          out = await step.run({}, r.state);
        } catch (err) {
          if (retryable(err) && attempt.retryCount < attempt.retryLimit) throw err;
          this.log.warn({ err, flow: r.flow, key: r.key, step: step.name }, 'flow step failed: undoing the steps before it');
          await this.db.rows(
            {},
            "UPDATE flow_run SET status = 'undoing', undo_step = $3, error = $4, updated_at = now() WHERE id = $1 AND status = 'running' AND next_step = $2",
            [runId, r.nextStep, r.nextStep - 1, `${step.name}: ${(err as Error).message}`.slice(0, 500)],
          );
          continue;
        }
        // Recorded only if no other runner got there first (a double after a resume): the step ran idempotently.
        // The last step's record also finishes the run, so a run never shows 'running' with nothing left to do.
        const [advanced] = await this.db.rows(
          {},
          `UPDATE flow_run SET next_step = next_step + 1, state = state || $3::jsonb, updated_at = now(),
                  status = CASE WHEN next_step + 1 >= $4 THEN 'done' ELSE status END
            WHERE id = $1 AND status = 'running' AND next_step = $2 RETURNING *`,
          [runId, r.nextStep, JSON.stringify(out ?? {}), def.steps.length],
        );
        if (advanced) await this.hooks.afterStep?.(view(advanced), r.nextStep);
        continue;
      }
      if (r.status === 'undoing') {
        const [row] = await this.db.rows({}, 'SELECT undo_step FROM flow_run WHERE id = $1', [runId]);
        const i = row!.undo_step as number;
        if (i < 0) {
          await this.db.rows({}, "UPDATE flow_run SET status = 'undone', updated_at = now() WHERE id = $1 AND status = 'undoing'", [runId]);
          continue;
        }
        const step = def.steps[i]!;
        try {
          await step.undo?.({}, r.state);
        } catch (err) {
          if (attempt.retryCount < attempt.retryLimit) throw err;
          await this.db.rows({}, "UPDATE flow_run SET status = 'stuck', error = $2, updated_at = now() WHERE id = $1", [runId, `undo ${step.name}: ${(err as Error).message}`.slice(0, 500)]);
          this.log.error({ err, flow: r.flow, key: r.key, step: step.name }, 'flow undo failed for good: the run is stuck');
          continue;
        }
        const [undone] = await this.db.rows(
          {},
          "UPDATE flow_run SET undo_step = undo_step - 1, updated_at = now() WHERE id = $1 AND status = 'undoing' AND undo_step = $2 RETURNING *",
          [runId, i],
        );
        if (undone) await this.hooks.afterStep?.(view(undone), i);
        continue;
      }
      return r;
    }
  }
}

const FLOW_RETRIES = 8;

/** The flow runner's one job; `resumeAll` is called once the queue has started. */
export function defineFlowJobs(queue: JobQueue, flows: FlowRunner): void {
  queue.define<{ runId: string }>({
    name: RUN_FLOW,
    retryLimit: FLOW_RETRIES,
    retryDelaySeconds: 5,
    handler: async ({ runId }, job) => void (await flows.run(runId, { retryCount: job.retryCount, retryLimit: FLOW_RETRIES })),
  });
}

function view(row: Record<string, any>): FlowRunView {
  return { id: row.id, flow: row.flow, key: row.key, status: row.status, nextStep: row.next_step, state: row.state, error: row.error };
}
