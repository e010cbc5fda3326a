import type { MigrationInterface, QueryRunner } from 'typeorm';

export class WxPayNotifications1795460000001 implements MigrationInterface {
  name = 'WxPayNotifications1795460000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE wxpay_notification (
        notification_id text PRIMARY KEY,
        event_type text NOT NULL,
        business_key text NOT NULL,
        resource jsonb NOT NULL,
        signature_serial text NOT NULL,
        handled_by text[] NOT NULL DEFAULT '{}',
        notified_at timestamptz NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE UNIQUE INDEX uq_wxpay_notification_business_key ON wxpay_notification (business_key)');
    await q.query('CREATE INDEX ix_wxpay_notification_processed_at ON wxpay_notification (processed_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE wxpay_notification');
  }
}
