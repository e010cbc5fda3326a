import type { MigrationInterface, QueryRunner } from 'typeorm';

export class MpSessions1795470200000 implements MigrationInterface {
  name = 'MpSessions1795470200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mp_session (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        token_hash text NOT NULL,
        member_id uuid NOT NULL,
        mp_openid text NOT NULL,
        session_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    await q.query('CREATE UNIQUE INDEX uq_mp_session_token_hash ON mp_session (token_hash)');
    await q.query('CREATE INDEX ix_mp_session_member ON mp_session (member_id)');
    await q.query(`
      CREATE TABLE mp_privacy_consent (
        member_id uuid PRIMARY KEY,
        version text NOT NULL,
        accepted_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE mp_privacy_consent');
    await q.query('DROP TABLE mp_session');
  }
}
