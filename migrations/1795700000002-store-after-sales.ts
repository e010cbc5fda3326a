import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * After-sales (申请退款): a member asks for the whole order or some lines back, the merchant accepts or rejects; an
 * accepted one is refunded through the payments module. Each line counts what has been refunded of it.
 */
export class StoreAfterSales1795700000002 implements MigrationInterface {
  name = 'StoreAfterSales1795700000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE store_order ADD COLUMN points_returned integer NOT NULL DEFAULT 0');
    await q.query('ALTER TABLE store_order_item ADD COLUMN refunded_quantity integer NOT NULL DEFAULT 0 CHECK (refunded_quantity >= 0 AND refunded_quantity <= quantity)');
    await q.query(`
      CREATE TABLE store_after_sale (
        id uuid PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES store_order (id),
        member_id uuid NOT NULL,
        lines jsonb,
        amount_fen integer NOT NULL CHECK (amount_fen > 0),
        reason text NOT NULL,
        requested_by text NOT NULL CHECK (requested_by IN ('member', 'merchant')),
        status text NOT NULL CHECK (status IN ('requested', 'rejected', 'refunding', 'refunded', 'failed')),
        merchant_note text,
        out_refund_no text,
        created_at timestamptz NOT NULL DEFAULT now(),
        decided_at timestamptz,
        settled_at timestamptz
      )`);
    await q.query("CREATE UNIQUE INDEX uq_store_after_sale_open ON store_after_sale (order_id) WHERE status IN ('requested', 'refunding')");
    await q.query('CREATE INDEX ix_store_after_sale_member ON store_after_sale (member_id)');
    await q.query('CREATE INDEX ix_store_after_sale_status ON store_after_sale (status, created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE store_after_sale');
    await q.query('ALTER TABLE store_order_item DROP COLUMN refunded_quantity');
    await q.query('ALTER TABLE store_order DROP COLUMN points_returned');
  }
}
