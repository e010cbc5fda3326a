import type { Db } from '../../infra/db';
import type { PrivacyHooks } from '../../infra/privacy';

/**
 * The store's and the points mall's part of a member: the address book, store orders (their address and the
 * payer's openid; the payment intents and WeChat Pay's notifications are the payments module's), redemptions (a gift's address), coupons, free-shipping
 * cards, the cart. Erasure keeps every amount; a merge settles each unique key (one default address, one idempotency
 * key per member, one cart line and one redemption count per item).
 */
export function storePrivacy(db: Db): PrivacyHooks {
  const ERASED = '{"erased":true}';
  return {
    name: 'store',
    tables: {
      store_address: { member: ['member_id'], personal: ['name', 'phone', 'province', 'city', 'district', 'detail'], exportedAs: 'store.addresses' },
      store_order: { member: ['member_id'], personal: ['payer_openid', 'address'], exportedAs: 'store.orders' },
      store_after_sale: { member: ['member_id'], exportedAs: 'store.afterSales' },
      // The payer of a store order, as WeChat Pay reported it: the orders' payerOpenid in the export.
      wxpay_notification: { personal: ['resource'] },
      mall_redemption: { member: ['member_id'], personal: ['address'], exportedAs: 'store.redemptions' },
      mall_member_count: { member: ['member_id'], exportedAs: 'store.redemptionCounts' },
      member_coupon: { member: ['member_id'], exportedAs: 'store.coupons' },
      member_shipping_card: { member: ['member_id'], exportedAs: 'store.shippingCards' },
      cart_item: { member: ['member_id'], exportedAs: 'store.cart' },
    },

    async export(ctx, id) {
      const addresses = await db.rows(
        ctx,
        'SELECT name, phone, province, city, district, detail, is_default, created_at FROM store_address WHERE member_id = $1 ORDER BY created_at, id',
        [id],
      );
      const orders = await db.rows(
        ctx,
        `SELECT o.order_no, o.status, o.payer_openid, o.goods_fen, o.discount_fen, o.coupon_fen, o.points_used, o.points_discount_fen,
                o.shipping_fen, o.payable_fen, o.points_awarded, o.address, o.transaction_id, o.paid_at, o.cancelled_at, o.cancel_reason,
                o.shipping_company, o.tracking_no, o.shipped_at, o.refund_status, o.refund_reason, o.refunded_at, o.created_at,
                coalesce((SELECT jsonb_agg(jsonb_build_object('title', i.title, 'skuName', i.sku_name, 'quantity', i.quantity,
                                 'unitPriceFen', i.unit_price_fen) ORDER BY i.title, i.sku_name)
                            FROM store_order_item i WHERE i.order_id = o.id), '[]'::jsonb) AS items
           FROM store_order o WHERE o.member_id = $1 ORDER BY o.created_at, o.id`,
        [id],
      );
      const redemptions = await db.rows(
        ctx,
        `SELECT i.name AS item, i.kind, r.points_spent, r.status, r.address, r.shipping_company, r.tracking_no, r.created_at
           FROM mall_redemption r JOIN mall_item i ON i.id = r.item_id WHERE r.member_id = $1 ORDER BY r.created_at, r.id`,
        [id],
      );
      const redemptionCounts = await db.rows(
        ctx,
        'SELECT i.name AS item, c.redeemed FROM mall_member_count c JOIN mall_item i ON i.id = c.item_id WHERE c.member_id = $1 ORDER BY i.name',
        [id],
      );
      const coupons = await db.rows(
        ctx,
        'SELECT name, value_fen, min_spend_fen, expires_at, used_order_id IS NOT NULL AS used, created_at FROM member_coupon WHERE member_id = $1 ORDER BY created_at, id',
        [id],
      );
      const shippingCards = await db.rows(ctx, 'SELECT period, starts_at, expires_at FROM member_shipping_card WHERE member_id = $1 ORDER BY starts_at, id', [id]);
      const cart = await db.rows(
        ctx,
        `SELECT p.title, s.name AS sku, c.quantity FROM cart_item c JOIN product_sku s ON s.id = c.sku_id JOIN product p ON p.id = s.product_id
          WHERE c.member_id = $1 ORDER BY p.title, s.name`,
        [id],
      );
      const afterSales = await db.rows(
        ctx,
        `SELECT o.order_no, a.lines, a.amount_fen, a.reason, a.requested_by, a.status, a.merchant_note, a.created_at, a.decided_at, a.settled_at
           FROM store_after_sale a JOIN store_order o ON o.id = a.order_id WHERE a.member_id = $1 ORDER BY a.created_at, a.id`,
        [id],
      );
      return { addresses, orders, redemptions, redemptionCounts, coupons, shippingCards, cart, afterSales };
    },

    async erase(ctx, id) {
      const addresses = await db.rows(ctx, 'DELETE FROM store_address WHERE member_id = $1 RETURNING 1', [id]);
      const orders = await db.rows(
        ctx,
        `UPDATE store_order SET address = $2::jsonb, payer_openid = 'erased' WHERE member_id = $1 RETURNING 1`,
        [id, ERASED],
      );
      await db.rows(ctx, 'UPDATE mall_redemption SET address = $2::jsonb WHERE member_id = $1 AND address IS NOT NULL', [id, ERASED]);
      // The payer in WeChat Pay's notifications is forgotten by the payments module's hooks (its intents).
      return { addresses: addresses.length, orders: orders.length };
    },

    async merge(ctx, survivorId, otherId) {
      // One default address per member: the survivor's stays the default. An idempotency key both used stays the survivor's.
      const addresses = await db.rows(
        ctx,
        `UPDATE store_address a SET member_id = $1,
                is_default = a.is_default AND NOT EXISTS (SELECT 1 FROM store_address s WHERE s.member_id = $1 AND s.is_default),
                idempotency_key = CASE WHEN EXISTS (SELECT 1 FROM store_address s WHERE s.member_id = $1 AND s.idempotency_key = a.idempotency_key)
                                       THEN NULL ELSE a.idempotency_key END
          WHERE a.member_id = $2 RETURNING 1`,
        [survivorId, otherId],
      );
      const rekey = (table: string) =>
        db.rows(
          ctx,
          `UPDATE ${table} r SET member_id = $1,
                  idempotency_key = CASE WHEN EXISTS (SELECT 1 FROM ${table} s WHERE s.member_id = $1 AND s.idempotency_key = r.idempotency_key)
                                         THEN 'merged:' || $2 || ':' || r.idempotency_key ELSE r.idempotency_key END
            WHERE r.member_id = $2 RETURNING 1`,
          [survivorId, otherId],
        );
      const orders = await rekey('store_order');
      const redemptions = await rekey('mall_redemption');
      // Per-item redemption counts add up (the per-member limit counts both); cart lines add up to the line's maximum.
      await db.rows(
        ctx,
        `WITH gone AS (DELETE FROM mall_member_count WHERE member_id = $2 RETURNING item_id, redeemed)
         INSERT INTO mall_member_count (member_id, item_id, redeemed) SELECT $1, item_id, redeemed FROM gone
         ON CONFLICT (member_id, item_id) DO UPDATE SET redeemed = mall_member_count.redeemed + EXCLUDED.redeemed`,
        [survivorId, otherId],
      );
      await db.rows(
        ctx,
        `WITH gone AS (DELETE FROM cart_item WHERE member_id = $2 RETURNING sku_id, quantity, updated_at)
         INSERT INTO cart_item (member_id, sku_id, quantity, updated_at) SELECT $1, sku_id, quantity, updated_at FROM gone
         ON CONFLICT (member_id, sku_id) DO UPDATE SET quantity = LEAST(cart_item.quantity + EXCLUDED.quantity, 99),
                                                       updated_at = GREATEST(cart_item.updated_at, EXCLUDED.updated_at)`,
        [survivorId, otherId],
      );
      const coupons = await db.rows(ctx, 'UPDATE member_coupon SET member_id = $1 WHERE member_id = $2 RETURNING 1', [survivorId, otherId]);
      await db.rows(ctx, 'UPDATE store_after_sale SET member_id = $1 WHERE member_id = $2', [survivorId, otherId]);
      const cards = await db.rows(ctx, 'UPDATE member_shipping_card SET member_id = $1 WHERE member_id = $2 RETURNING 1', [survivorId, otherId]);
      return { addresses: addresses.length, orders: orders.length, redemptions: redemptions.length, coupons: coupons.length, shippingCards: cards.length };
    },
  };
}
