import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The points ledger: accounts, transactions (idempotency key + request hash), signed entries that sum to zero
 * per transaction, and expiry lots. Entries and transactions are append-only, enforced by triggers.
 */
export class PointsLedger1795440100000 implements MigrationInterface {
  name = 'PointsLedger1795440100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE points_account (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('member', 'system')),
        member_id uuid UNIQUE REFERENCES member (id),
        code text UNIQUE,
        balance bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_points_account_shape CHECK (
          (kind = 'member' AND member_id IS NOT NULL AND code IS NULL AND balance IS NOT NULL AND balance >= 0)
          OR (kind = 'system' AND member_id IS NULL AND code IS NOT NULL AND balance IS NULL))
      )`);
    await q.query(`
      INSERT INTO points_account (kind, code) VALUES
        ('system', 'issued'), ('system', 'redeemed'), ('system', 'expired'), ('system', 'adjusted')`);
    await q.query(`
      CREATE TABLE points_transaction (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('earn', 'spend', 'reverse', 'expire', 'adjust', 'merge')),
        member_id uuid NOT NULL REFERENCES member (id),
        amount bigint NOT NULL,
        reason text NOT NULL,
        reverses_id bigint REFERENCES points_transaction (id),
        balance_after bigint NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        actor text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_points_transaction_key UNIQUE (idempotency_key)
      )`);
    await q.query('CREATE INDEX ix_points_transaction_member ON points_transaction (member_id, id)');
    await q.query('CREATE INDEX ix_points_transaction_reverses ON points_transaction (reverses_id) WHERE reverses_id IS NOT NULL');
    await q.query(`
      CREATE TABLE points_entry (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id bigint NOT NULL REFERENCES points_transaction (id),
        account_id bigint NOT NULL REFERENCES points_account (id),
        amount bigint NOT NULL CHECK (amount <> 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX ix_points_entry_account ON points_entry (account_id)');
    await q.query('CREATE INDEX ix_points_entry_transaction ON points_entry (transaction_id)');
    await q.query(`
      CREATE TABLE points_lot (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id bigint NOT NULL REFERENCES points_account (id),
        transaction_id bigint NOT NULL REFERENCES points_transaction (id),
        amount bigint NOT NULL CHECK (amount > 0),
        remaining bigint NOT NULL CHECK (remaining >= 0),
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_points_lot_remaining CHECK (remaining <= amount)
      )`);
    await q.query('CREATE INDEX ix_points_lot_open ON points_lot (account_id, expires_at, id) WHERE remaining > 0');
    await q.query('CREATE INDEX ix_points_lot_expiry ON points_lot (expires_at) WHERE remaining > 0');

    // The ledger is append-only: corrections are new transactions, never edits.
    await q.query(`
      CREATE FUNCTION points_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'points ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'P0001';
      END $$`);
    await q.query(`CREATE TRIGGER trg_points_entry_append_only BEFORE UPDATE OR DELETE ON points_entry
      FOR EACH ROW EXECUTE FUNCTION points_refuse_change()`);
    await q.query(`CREATE TRIGGER trg_points_entry_no_truncate BEFORE TRUNCATE ON points_entry
      FOR EACH STATEMENT EXECUTE FUNCTION points_refuse_change()`);
    await q.query(`CREATE TRIGGER trg_points_transaction_append_only BEFORE UPDATE OR DELETE ON points_transaction
      FOR EACH ROW EXECUTE FUNCTION points_refuse_change()`);
    await q.query(`CREATE TRIGGER trg_points_transaction_no_truncate BEFORE TRUNCATE ON points_transaction
      FOR EACH STATEMENT EXECUTE FUNCTION points_refuse_change()`);

    // Double entry: at commit, every transaction's entries sum to zero.
    await q.query(`
      CREATE FUNCTION points_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE total bigint;
      BEGIN
        SELECT coalesce(sum(amount), 0) INTO total FROM points_entry WHERE transaction_id = NEW.transaction_id;
        IF total <> 0 THEN
          RAISE EXCEPTION 'points transaction % does not balance (sum %)', NEW.transaction_id, total USING ERRCODE = '23514';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE CONSTRAINT TRIGGER trg_points_entry_balanced AFTER INSERT ON points_entry
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points_check_balanced()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE points_lot');
    await q.query('DROP TABLE points_entry');
    await q.query('DROP TABLE points_transaction');
    await q.query('DROP TABLE points_account');
    await q.query('DROP FUNCTION points_check_balanced');
    await q.query('DROP FUNCTION points_refuse_change');
  }
}
