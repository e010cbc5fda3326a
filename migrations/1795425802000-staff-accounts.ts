import type { MigrationInterface, QueryRunner } from 'typeorm';

export class StaffAccounts1795425802000 implements MigrationInterface {
  name = 'StaffAccounts1795425802000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE staff_account (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username text NOT NULL,
        password_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('owner', 'operator', 'customer_service')),
        display_name text,
        created_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz
      )`);
    await q.query('CREATE UNIQUE INDEX uq_staff_account_username ON staff_account (username)');
    await q.query(`
      CREATE TABLE staff_session (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash text NOT NULL,
        staff_id uuid NOT NULL REFERENCES staff_account (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    await q.query('CREATE UNIQUE INDEX uq_staff_session_token_hash ON staff_session (token_hash)');
    await q.query('CREATE INDEX ix_staff_session_staff ON staff_session (staff_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE staff_session');
    await q.query('DROP TABLE staff_account');
  }
}
