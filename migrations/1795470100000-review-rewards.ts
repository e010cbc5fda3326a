import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ReviewRewards1795470100000 implements MigrationInterface {
  name = 'ReviewRewards1795470100000';

  async up(q: QueryRunner): Promise<void> {
    // No column about the review's rating, on purpose: rewards are for an honest review of any rating.
    await q.query(`
      CREATE TABLE review_campaign (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        reward_kind text NOT NULL CHECK (reward_kind IN ('cash', 'points')),
        amount_fen integer NOT NULL CHECK (amount_fen BETWEEN 0 AND 20000),
        points integer NOT NULL CHECK (points >= 0),
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
        daily_budget_fen bigint CHECK (daily_budget_fen > 0),
        transfer_remark text NOT NULL CHECK (length(transfer_remark) BETWEEN 1 AND 32),
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE review_claim (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        campaign_id uuid NOT NULL REFERENCES review_campaign (id),
        member_id uuid NOT NULL,
        channel_id text NOT NULL,
        order_no text NOT NULL,
        screenshot_path text NOT NULL,
        screenshot_type text NOT NULL,
        status text NOT NULL CHECK (status IN ('submitted', 'rejected', 'approved', 'transfer_pending', 'paid', 'transfer_failed', 'points_awarded')),
        reject_reason text,
        reward_kind text NOT NULL CHECK (reward_kind IN ('cash', 'points')),
        amount_fen integer NOT NULL,
        points integer NOT NULL,
        transfer_attempt integer NOT NULL DEFAULT 0,
        out_bill_no text,
        transfer_bill_no text,
        package_info text,
        failure_reason text,
        submitted_at timestamptz NOT NULL DEFAULT now(),
        decided_at timestamptz,
        decided_by uuid,
        approved_day date,
        settled_at timestamptz
      )`);
    // One live claim per order; a rejected claim may be submitted again with a better screenshot.
    await q.query("CREATE UNIQUE INDEX uq_review_claim_order ON review_claim (channel_id, order_no) WHERE status <> 'rejected'");
    await q.query('CREATE UNIQUE INDEX uq_review_claim_out_bill_no ON review_claim (out_bill_no)');
    await q.query('CREATE INDEX ix_review_claim_status ON review_claim (status, submitted_at)');
    await q.query('CREATE INDEX ix_review_claim_member ON review_claim (member_id)');
    await q.query('CREATE INDEX ix_review_claim_budget ON review_claim (campaign_id, approved_day)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE review_claim');
    await q.query('DROP TABLE review_campaign');
  }
}
