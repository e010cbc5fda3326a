import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Members, their identities, sales channels and orders, tiers, and the audit of what staff did to members. */
export class Members1795440000000 implements MigrationInterface {
  name = 'Members1795440000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sales_channel (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('taobao', 'tmall', 'miniprogram', 'offline')),
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_sales_channel_kind_name UNIQUE (kind, name)
      )`);
    await q.query(`
      CREATE TABLE tier_definition (
        code text PRIMARY KEY,
        name text NOT NULL,
        rank int NOT NULL UNIQUE,
        min_spend_12m_fen bigint NOT NULL DEFAULT 0 CHECK (min_spend_12m_fen >= 0),
        min_orders_12m int NOT NULL DEFAULT 0 CHECK (min_orders_12m >= 0),
        perks jsonb NOT NULL DEFAULT '{}'::jsonb,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO tier_definition (code, name, rank, min_spend_12m_fen, min_orders_12m, perks) VALUES
        ('regular', '普通会员', 0, 0, 0, '{"freeShipping":false,"discountPercent":0,"pointsMultiplier":1,"birthdayGift":false}'),
        ('silver', '高级会员', 1, 50000, 3, '{"freeShipping":false,"discountPercent":2,"pointsMultiplier":1.2,"birthdayGift":true}'),
        ('vip', 'VIP会员', 2, 200000, 8, '{"freeShipping":true,"discountPercent":5,"pointsMultiplier":1.5,"birthdayGift":true}'),
        ('supreme', '至尊VIP会员', 3, 500000, 20, '{"freeShipping":true,"discountPercent":10,"pointsMultiplier":2,"birthdayGift":true}')`);
    await q.query(`
      CREATE TABLE member (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged', 'erased')),
        merged_into uuid REFERENCES member (id),
        nickname text,
        gender text CHECK (gender IN ('male', 'female', 'unknown')),
        birthday date,
        region text,
        tags text[] NOT NULL DEFAULT '{}',
        notes text,
        tier_code text NOT NULL DEFAULT 'regular' REFERENCES tier_definition (code) ON UPDATE CASCADE,
        tier_since timestamptz NOT NULL DEFAULT now(),
        first_purchase_at timestamptz,
        last_purchase_at timestamptz,
        orders_12m int NOT NULL DEFAULT 0,
        spend_12m_fen bigint NOT NULL DEFAULT 0,
        orders_total int NOT NULL DEFAULT 0,
        spend_total_fen bigint NOT NULL DEFAULT 0,
        stats_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        erased_at timestamptz,
        CONSTRAINT ck_member_merged CHECK ((status = 'merged') = (merged_into IS NOT NULL))
      )`);
    await q.query('CREATE INDEX ix_member_tier ON member (tier_code) WHERE status = \'active\'');
    await q.query('CREATE INDEX ix_member_last_purchase ON member (last_purchase_at) WHERE status = \'active\'');
    await q.query('CREATE INDEX ix_member_tags ON member USING gin (tags)');
    await q.query(`
      CREATE TABLE member_identity (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL REFERENCES member (id),
        kind text NOT NULL CHECK (kind IN ('oa_openid', 'mp_openid', 'unionid', 'taobao_buyer', 'phone')),
        value text NOT NULL,
        display text,
        channel_id uuid REFERENCES sales_channel (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_member_identity_kind_value UNIQUE (kind, value)
      )`);
    await q.query('CREATE INDEX ix_member_identity_member ON member_identity (member_id)');
    await q.query(`
      CREATE TABLE sales_order (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel_id uuid NOT NULL REFERENCES sales_channel (id),
        order_no text NOT NULL CHECK (order_no ~ '^[0-9A-Za-z_-]{1,40}$'),
        member_id uuid REFERENCES member (id),
        buyer_key text,
        buyer_nick text,
        state text NOT NULL CHECK (state IN ('pending', 'paid', 'shipped', 'completed', 'closed')),
        status_text text,
        total_fen bigint NOT NULL DEFAULT 0 CHECK (total_fen >= 0),
        paid_fen bigint NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
        postage_fen bigint NOT NULL DEFAULT 0 CHECK (postage_fen >= 0),
        refund_fen bigint NOT NULL DEFAULT 0 CHECK (refund_fen >= 0),
        spend_fen bigint GENERATED ALWAYS AS (CASE WHEN state IN ('paid', 'shipped', 'completed') THEN greatest(paid_fen - refund_fen, 0) ELSE 0 END) STORED,
        ordered_at timestamptz,
        paid_at timestamptz,
        item_title text,
        item_count int,
        items jsonb,
        close_reason text,
        buyer_message text,
        receiver_name text,
        receiver_address text,
        receiver_phone text,
        phone_last4 text,
        phone_hash text,
        extra jsonb NOT NULL DEFAULT '{}'::jsonb,
        import_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        erased_at timestamptz,
        CONSTRAINT uq_sales_order_channel_no UNIQUE (order_no, channel_id)
      )`);
    // The unique key leads with order_no so it also serves binding's lookup by order number alone.
    await q.query('CREATE INDEX ix_sales_order_buyer ON sales_order (buyer_key)');
    await q.query('CREATE INDEX ix_sales_order_member ON sales_order (member_id) WHERE member_id IS NOT NULL');
    await q.query('CREATE INDEX ix_sales_order_phone_hash ON sales_order (phone_hash) WHERE phone_hash IS NOT NULL');
    await q.query(`
      CREATE TABLE tier_change (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        member_id uuid NOT NULL REFERENCES member (id),
        from_tier text,
        to_tier text NOT NULL,
        direction text NOT NULL CHECK (direction IN ('up', 'down')),
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX ix_tier_change_member ON tier_change (member_id, created_at)');
    await q.query(`
      CREATE TABLE member_audit (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        member_id uuid NOT NULL REFERENCES member (id),
        action text NOT NULL,
        actor text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX ix_member_audit_member ON member_audit (member_id, created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['member_audit', 'tier_change', 'sales_order', 'member_identity', 'member', 'tier_definition', 'sales_channel']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
