import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Store1795480000001 implements MigrationInterface {
  name = 'Store1795480000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE store_address (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL,
        name text NOT NULL,
        phone text NOT NULL,
        province text NOT NULL,
        city text NOT NULL,
        district text NOT NULL,
        detail text NOT NULL,
        is_default boolean NOT NULL DEFAULT false,
        idempotency_key text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT store_address_idempotency UNIQUE (member_id, idempotency_key)
      )`);
    await q.query('CREATE INDEX store_address_member ON store_address (member_id, created_at)');
    await q.query('CREATE UNIQUE INDEX store_address_one_default ON store_address (member_id) WHERE is_default');

    await q.query(`
      CREATE TABLE mall_item (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('coupon', 'shipping_card', 'gift')),
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        image_url text,
        points_cost integer NOT NULL CHECK (points_cost > 0),
        stock integer NOT NULL CHECK (stock >= 0),
        per_member_limit integer CHECK (per_member_limit > 0),
        coupon_value_fen integer CHECK (coupon_value_fen > 0),
        coupon_min_spend_fen integer CHECK (coupon_min_spend_fen >= 0),
        coupon_valid_days integer CHECK (coupon_valid_days > 0),
        shipping_card_period text CHECK (shipping_card_period IN ('monthly', 'yearly')),
        active boolean NOT NULL DEFAULT true,
        sort integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (kind <> 'coupon' OR (coupon_value_fen IS NOT NULL AND coupon_min_spend_fen IS NOT NULL AND coupon_valid_days IS NOT NULL)),
        CHECK (kind <> 'shipping_card' OR shipping_card_period IS NOT NULL)
      )`);
    await q.query(`
      CREATE TABLE mall_redemption (
        id uuid PRIMARY KEY,
        member_id uuid NOT NULL,
        item_id uuid NOT NULL REFERENCES mall_item (id),
        idempotency_key text NOT NULL,
        points_spent integer NOT NULL CHECK (points_spent > 0),
        status text NOT NULL CHECK (status IN ('fulfilled', 'pending_shipment', 'shipped')),
        address jsonb,
        shipping_company text,
        tracking_no text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT mall_redemption_idempotency UNIQUE (member_id, idempotency_key)
      )`);
    await q.query('CREATE INDEX mall_redemption_status ON mall_redemption (status, created_at)');
    await q.query(`
      CREATE TABLE mall_member_count (
        member_id uuid NOT NULL,
        item_id uuid NOT NULL REFERENCES mall_item (id),
        redeemed integer NOT NULL CHECK (redeemed >= 0),
        PRIMARY KEY (member_id, item_id)
      )`);
    await q.query(`
      CREATE TABLE member_coupon (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL,
        name text NOT NULL,
        value_fen integer NOT NULL CHECK (value_fen > 0),
        min_spend_fen integer NOT NULL CHECK (min_spend_fen >= 0),
        redemption_id uuid REFERENCES mall_redemption (id),
        expires_at timestamptz NOT NULL,
        used_order_id uuid,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX member_coupon_member ON member_coupon (member_id, expires_at)');
    await q.query(`
      CREATE TABLE member_shipping_card (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL,
        period text NOT NULL CHECK (period IN ('monthly', 'yearly')),
        starts_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL CHECK (expires_at > starts_at),
        redemption_id uuid REFERENCES mall_redemption (id)
      )`);
    await q.query('CREATE INDEX member_shipping_card_member ON member_shipping_card (member_id, expires_at)');

    await q.query(`
      CREATE TABLE product (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        images jsonb NOT NULL DEFAULT '[]',
        active boolean NOT NULL DEFAULT true,
        sort integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE product_sku (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        product_id uuid NOT NULL REFERENCES product (id),
        name text NOT NULL,
        price_fen integer NOT NULL CHECK (price_fen > 0),
        stock integer NOT NULL CHECK (stock >= 0),
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX product_sku_product ON product_sku (product_id)');
    await q.query(`
      CREATE TABLE cart_item (
        member_id uuid NOT NULL,
        sku_id uuid NOT NULL REFERENCES product_sku (id),
        quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (member_id, sku_id)
      )`);

    await q.query(`
      CREATE TABLE store_order (
        id uuid PRIMARY KEY,
        order_no text NOT NULL UNIQUE CHECK (length(order_no) BETWEEN 6 AND 32),
        member_id uuid NOT NULL,
        payer_openid text NOT NULL,
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending_payment', 'paid', 'shipped', 'completed', 'cancelled', 'refunded')),
        goods_fen integer NOT NULL CHECK (goods_fen > 0),
        discount_fen integer NOT NULL CHECK (discount_fen >= 0),
        coupon_id uuid REFERENCES member_coupon (id),
        coupon_fen integer NOT NULL DEFAULT 0 CHECK (coupon_fen >= 0),
        points_used integer NOT NULL CHECK (points_used >= 0),
        points_discount_fen integer NOT NULL CHECK (points_discount_fen >= 0),
        shipping_fen integer NOT NULL CHECK (shipping_fen >= 0),
        payable_fen integer NOT NULL CHECK (payable_fen >= 1),
        points_awarded integer NOT NULL DEFAULT 0 CHECK (points_awarded >= 0),
        address jsonb NOT NULL,
        prepay_id text,
        transaction_id text,
        expires_at timestamptz NOT NULL,
        paid_at timestamptz,
        cancelled_at timestamptz,
        cancel_reason text,
        shipping_company text,
        tracking_no text,
        shipped_at timestamptz,
        shipping_uploaded_at timestamptz,
        shipping_upload_error text,
        out_refund_no text UNIQUE,
        refund_status text CHECK (refund_status IN ('processing', 'succeeded', 'failed')),
        refund_reason text,
        refund_error text,
        refunded_at timestamptz,
        points_clawed_back integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (payable_fen = goods_fen - discount_fen - points_discount_fen + shipping_fen),
        CONSTRAINT store_order_idempotency UNIQUE (member_id, idempotency_key)
      )`);
    await q.query('CREATE INDEX store_order_member ON store_order (member_id, created_at DESC)');
    await q.query('CREATE INDEX store_order_status ON store_order (status, created_at DESC)');
    await q.query("CREATE INDEX store_order_unpaid ON store_order (expires_at) WHERE status = 'pending_payment'");
    await q.query('CREATE UNIQUE INDEX store_order_coupon_once ON store_order (coupon_id) WHERE coupon_id IS NOT NULL AND status <> \'cancelled\'');
    await q.query(`
      CREATE TABLE store_order_item (
        order_id uuid NOT NULL REFERENCES store_order (id),
        sku_id uuid NOT NULL REFERENCES product_sku (id),
        product_id uuid NOT NULL,
        title text NOT NULL,
        sku_name text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        list_price_fen integer NOT NULL CHECK (list_price_fen > 0),
        unit_price_fen integer NOT NULL CHECK (unit_price_fen > 0),
        PRIMARY KEY (order_id, sku_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'store_order_item',
      'store_order',
      'cart_item',
      'product_sku',
      'product',
      'member_shipping_card',
      'member_coupon',
      'mall_member_count',
      'mall_redemption',
      'mall_item',
      'store_address',
    ]) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
