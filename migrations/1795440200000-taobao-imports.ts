import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Taobao import jobs and the rows each one rejected (line number and reason). */
export class TaobaoImports1795440200000 implements MigrationInterface {
  name = 'TaobaoImports1795440200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE taobao_import (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
        source text NOT NULL CHECK (source IN ('upload', 'cli')),
        channel_kind text NOT NULL CHECK (channel_kind IN ('taobao', 'tmall')),
        store_name text,
        orders_file text,
        items_file text,
        file_names jsonb NOT NULL DEFAULT '{}'::jsonb,
        bytes_total bigint NOT NULL DEFAULT 0,
        bytes_read bigint NOT NULL DEFAULT 0,
        phase text NOT NULL DEFAULT 'queued',
        summary jsonb,
        error text,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE taobao_import_reject (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        import_id uuid NOT NULL REFERENCES taobao_import (id) ON DELETE CASCADE,
        file text NOT NULL CHECK (file IN ('orders', 'items')),
        line int NOT NULL,
        reason text NOT NULL,
        excerpt text
      )`);
    await q.query('CREATE INDEX ix_taobao_import_reject_import ON taobao_import_reject (import_id, file, line)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE taobao_import_reject');
    await q.query('DROP TABLE taobao_import');
  }
}
