import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The payments module's tables: a payment intent is one JSAPI order (one payer, one out_trade_no) for something a
 * module sells (its kind and key); its payment is written on it once WeChat reports it. A refund is a row of its own,
 * several per payment. Store orders placed before are carried over: their intent keeps the order number WeChat knows.
 */
export class Payments1795700000000 implements MigrationInterface {
  name = 'Payments1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payment_intent (
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        key text NOT NULL,
        member_id uuid,
        out_trade_no text NOT NULL UNIQUE,
        payer_openid text NOT NULL,
        description text NOT NULL,
        amount_fen integer NOT NULL CHECK (amount_fen > 0),
        state text NOT NULL CHECK (state IN ('pending', 'paid', 'closed')),
        prepay_id text,
        expires_at timestamptz NOT NULL,
        check_at timestamptz,
        transaction_id text UNIQUE,
        paid_at timestamptz,
        closed_at timestamptz,
        close_reason text,
        paid_after_close boolean NOT NULL DEFAULT false,
        refunded_fen integer NOT NULL DEFAULT 0,
        refund_count integer NOT NULL DEFAULT 0,
        last_refund_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (kind, key),
        CHECK (refunded_fen >= 0 AND refunded_fen <= amount_fen),
        CHECK (refund_count <= 50)
      )`);
    await q.query("CREATE INDEX ix_payment_intent_due ON payment_intent (check_at) WHERE state = 'pending'");
    await q.query('CREATE INDEX ix_payment_intent_member ON payment_intent (member_id)');
    await q.query(`
      CREATE TABLE payment_refund (
        id uuid PRIMARY KEY,
        intent_id uuid NOT NULL REFERENCES payment_intent (id),
        key text NOT NULL,
        out_refund_no text NOT NULL UNIQUE,
        amount_fen integer NOT NULL CHECK (amount_fen > 0),
        reason text NOT NULL DEFAULT '',
        state text NOT NULL CHECK (state IN ('pending', 'processing', 'succeeded', 'failed')),
        not_before timestamptz NOT NULL,
        check_at timestamptz,
        refund_id text,
        error text,
        submitted_at timestamptz,
        settled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (intent_id, key)
      )`);
    await q.query("CREATE INDEX ix_payment_refund_open ON payment_refund (check_at) WHERE state IN ('pending', 'processing')");
    // Store orders so far: one intent each under the order number, and their one full refund.
    await q.query(`
      INSERT INTO payment_intent (id, kind, key, member_id, out_trade_no, payer_openid, description, amount_fen, state, prepay_id,
                                  expires_at, check_at, transaction_id, paid_at, closed_at, close_reason, paid_after_close,
                                  refunded_fen, refund_count, last_refund_at, created_at)
      SELECT gen_random_uuid(), 'store_order', o.id::text, o.member_id, o.order_no, o.payer_openid, '商品', o.payable_fen,
             CASE WHEN o.transaction_id IS NOT NULL THEN 'paid' WHEN o.status = 'pending_payment' THEN 'pending' ELSE 'closed' END,
             o.prepay_id, o.expires_at, o.expires_at, o.transaction_id, o.paid_at, o.cancelled_at, o.cancel_reason,
             o.transaction_id IS NOT NULL AND o.status = 'cancelled',
             CASE WHEN o.refund_status IN ('processing', 'succeeded') THEN o.payable_fen ELSE 0 END,
             CASE WHEN o.out_refund_no IS NOT NULL THEN 1 ELSE 0 END,
             CASE WHEN o.out_refund_no IS NOT NULL THEN o.created_at END, o.created_at
        FROM store_order o WHERE o.payable_fen > 0`);
    await q.query(`
      INSERT INTO payment_refund (id, intent_id, key, out_refund_no, amount_fen, reason, state, not_before, check_at, submitted_at, settled_at, error)
      SELECT gen_random_uuid(), i.id, 'full', o.out_refund_no, o.payable_fen, coalesce(o.refund_reason, ''),
             CASE o.refund_status WHEN 'succeeded' THEN 'succeeded' WHEN 'failed' THEN 'failed' ELSE 'processing' END,
             now(), now(), now(), o.refunded_at, o.refund_error
        FROM store_order o JOIN payment_intent i ON i.kind = 'store_order' AND i.key = o.id::text
       WHERE o.out_refund_no IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE payment_refund');
    await q.query('DROP TABLE payment_intent');
  }
}
