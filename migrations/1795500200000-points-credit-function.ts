import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The points ledger's credit as one database function: a caller posts a credit in one round trip, and a statement
 * that writes its own row (a check-in) can post the credit with it, atomically. Same rules as the ledger's other
 * postings: the member must exist and be active, the member account is locked before the balance is read, a key
 * posted before returns the first transaction (or fails when the request differs), entries balance against a
 * system account, and the credit opens an expiry lot.
 * Errors carry a HINT with the ledger's stable code (member_not_found, member_inactive, idempotency_key_reused).
 */
export class PointsCreditFunction1795500200000 implements MigrationInterface {
  name = 'PointsCreditFunction1795500200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION points_credit(
        p_key text, p_hash text, p_kind text, p_member uuid, p_amount bigint, p_reason text,
        p_reverses bigint, p_metadata jsonb, p_actor text, p_system text, p_expires timestamptz)
      RETURNS TABLE (id bigint, kind text, member_id uuid, amount bigint, balance_after bigint, reverses_id bigint,
                     request_hash text, created_at timestamptz, replayed boolean)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        v_status text;
        v_account bigint;
        v_balance bigint;
        v_tx points_transaction;
      BEGIN
        IF p_amount IS NULL OR p_amount <= 0 THEN
          RAISE EXCEPTION 'a credit must be a positive amount' USING ERRCODE = '22023', HINT = 'invalid_amount';
        END IF;
        SELECT m.status INTO v_status FROM member m WHERE m.id = p_member;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'no member %', p_member USING ERRCODE = 'P0002', HINT = 'member_not_found';
        END IF;
        IF v_status <> 'active' THEN
          RAISE EXCEPTION 'member % is %', p_member, v_status USING ERRCODE = 'P0001', HINT = 'member_inactive';
        END IF;
        SELECT a.id, a.balance INTO v_account, v_balance FROM points_account a WHERE a.member_id = p_member FOR UPDATE;
        IF NOT FOUND THEN
          INSERT INTO points_account (kind, member_id, balance) VALUES ('member', p_member, 0) ON CONFLICT (member_id) DO NOTHING;
          SELECT a.id, a.balance INTO v_account, v_balance FROM points_account a WHERE a.member_id = p_member FOR UPDATE;
        END IF;
        INSERT INTO points_transaction AS t (idempotency_key, request_hash, kind, member_id, amount, reason, reverses_id,
                                             balance_after, metadata, actor)
        VALUES (p_key, p_hash, p_kind, p_member, p_amount, p_reason, p_reverses, v_balance + p_amount,
                coalesce(p_metadata, '{}'::jsonb), p_actor)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING t.* INTO v_tx;
        IF NOT FOUND THEN
          SELECT t.* INTO v_tx FROM points_transaction t WHERE t.idempotency_key = p_key;
          IF v_tx.request_hash <> p_hash THEN
            RAISE EXCEPTION 'idempotency key % was used for a different request', p_key
              USING ERRCODE = 'P0001', HINT = 'idempotency_key_reused';
          END IF;
          RETURN QUERY SELECT v_tx.id, v_tx.kind, v_tx.member_id, v_tx.amount, v_tx.balance_after, v_tx.reverses_id,
                              v_tx.request_hash, v_tx.created_at, true;
          RETURN;
        END IF;
        INSERT INTO points_entry (transaction_id, account_id, amount)
        VALUES (v_tx.id, v_account, p_amount),
               (v_tx.id, (SELECT s.id FROM points_account s WHERE s.code = p_system), -p_amount);
        UPDATE points_account a SET balance = v_tx.balance_after WHERE a.id = v_account;
        INSERT INTO points_lot (account_id, transaction_id, amount, remaining, expires_at)
        VALUES (v_account, v_tx.id, p_amount, p_amount, p_expires);
        RETURN QUERY SELECT v_tx.id, v_tx.kind, v_tx.member_id, v_tx.amount, v_tx.balance_after, v_tx.reverses_id,
                            v_tx.request_hash, v_tx.created_at, false;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION points_credit');
  }
}
