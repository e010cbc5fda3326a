import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DemoSeed1795490000000 implements MigrationInterface {
  name = 'DemoSeed1795490000000';

  async up(q: QueryRunner): Promise<void> {
    // One row at most: the primary key makes "seed once" hold across restarts and concurrent instances.
    await q.query(`
      CREATE TABLE demo_seed (
        id integer PRIMARY KEY CHECK (id = 1),
        status text NOT NULL CHECK (status IN ('seeding', 'done')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        import_id uuid,
        batch_id uuid,
        campaign_id uuid,
        owner_username text,
        hint_orders text[] NOT NULL DEFAULT '{}'
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE demo_seed');
  }
}
