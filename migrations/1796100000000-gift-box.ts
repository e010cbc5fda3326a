import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The nine-friend gift box (拆礼盒): campaigns, boxes, helps and each member's count per campaign. The counts and
 * the box's helps are what the conditional updates of a help check, so exactness under a race is the database's.
 */
export class GiftBox1796100000000 implements MigrationInterface {
  name = 'GiftBox1796100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gift_box_campaign (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        rules text NOT NULL,
        helps_required integer NOT NULL CHECK (helps_required BETWEEN 1 AND 50),
        reward_kind text NOT NULL CHECK (reward_kind IN ('points')),
        reward_points integer NOT NULL CHECK (reward_points > 0),
        stock integer CHECK (stock >= 0),
        reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND (stock IS NULL OR reserved <= stock)),
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        boxes_per_member integer NOT NULL CHECK (boxes_per_member >= 1),
        helps_per_helper integer NOT NULL CHECK (helps_per_helper >= 1),
        new_members_only boolean NOT NULL DEFAULT false,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (ends_at > starts_at)
      )`);
    await q.query(`
      CREATE TABLE gift_box (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        campaign_id uuid NOT NULL REFERENCES gift_box_campaign (id),
        owner_member_id uuid NOT NULL,
        parent_box_id uuid REFERENCES gift_box (id),
        status text NOT NULL CHECK (status IN ('open', 'unlocked', 'rewarded', 'expired')),
        helps integer NOT NULL DEFAULT 0 CHECK (helps >= 0 AND helps <= helps_required),
        helps_required integer NOT NULL,
        reward_points integer NOT NULL,
        reward_transaction_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        unlocked_at timestamptz,
        rewarded_at timestamptz,
        expired_at timestamptz
      )`);
    await q.query('CREATE INDEX gift_box_campaign_idx ON gift_box (campaign_id, created_at)');
    await q.query('CREATE INDEX gift_box_owner_idx ON gift_box (owner_member_id, created_at DESC)');
    await q.query('CREATE INDEX gift_box_parent_idx ON gift_box (parent_box_id) WHERE parent_box_id IS NOT NULL');
    await q.query("CREATE INDEX gift_box_open_idx ON gift_box (campaign_id) WHERE status = 'open'");
    await q.query(`
      CREATE TABLE gift_box_help (
        box_id uuid NOT NULL REFERENCES gift_box (id),
        helper_member_id uuid NOT NULL,
        campaign_id uuid NOT NULL,
        new_member boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (box_id, helper_member_id)
      )`);
    await q.query('CREATE INDEX gift_box_help_helper_idx ON gift_box_help (helper_member_id)');
    await q.query('CREATE INDEX gift_box_help_campaign_idx ON gift_box_help (campaign_id, created_at)');
    await q.query(`
      CREATE TABLE gift_box_member (
        campaign_id uuid NOT NULL REFERENCES gift_box_campaign (id),
        member_id uuid NOT NULL,
        boxes integer NOT NULL DEFAULT 0 CHECK (boxes >= 0),
        helps integer NOT NULL DEFAULT 0 CHECK (helps >= 0),
        PRIMARY KEY (campaign_id, member_id)
      )`);
    await q.query('CREATE INDEX gift_box_member_idx ON gift_box_member (member_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['gift_box_member', 'gift_box_help', 'gift_box', 'gift_box_campaign']) await q.query(`DROP TABLE ${t}`);
  }
}
