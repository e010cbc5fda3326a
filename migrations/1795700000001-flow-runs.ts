import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A flow's run (server/infra/flows.ts): which step comes next, what the steps have recorded so far (what their undo
 * needs), and whether it is going forward or undoing. One run per flow and key.
 */
export class FlowRuns1795700000001 implements MigrationInterface {
  name = 'FlowRuns1795700000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE flow_run (
        id uuid PRIMARY KEY,
        flow text NOT NULL,
        key text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'undoing', 'done', 'undone', 'stuck')),
        next_step integer NOT NULL DEFAULT 0,
        undo_step integer,
        state jsonb NOT NULL,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (flow, key)
      )`);
    await q.query("CREATE INDEX ix_flow_run_open ON flow_run (updated_at) WHERE status IN ('running', 'undoing')");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE flow_run');
  }
}
