import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** An address in a member's address book; orders and gifts keep a copy, so rows can be deleted. */
@Entity('store_address')
export class StoreAddress {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'member_id', type: 'uuid' }) memberId!: string;
  @Column({ name: 'name', type: 'text' }) name!: string;
  @Column({ name: 'phone', type: 'text' }) phone!: string;
  @Column({ name: 'province', type: 'text' }) province!: string;
  @Column({ name: 'city', type: 'text' }) city!: string;
  @Column({ name: 'district', type: 'text' }) district!: string;
  @Column({ name: 'detail', type: 'text' }) detail!: string;
  @Column({ name: 'is_default', type: 'boolean' }) isDefault!: boolean;
  @Column({ name: 'idempotency_key', type: 'text', nullable: true }) idempotencyKey!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** A reward of the points mall. */
@Entity('mall_item')
export class MallItem {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'kind', type: 'text' }) kind!: 'coupon' | 'shipping_card' | 'gift';
  @Column({ name: 'name', type: 'text' }) name!: string;
  @Column({ name: 'description', type: 'text' }) description!: string;
  @Column({ name: 'image_url', type: 'text', nullable: true }) imageUrl!: string | null;
  @Column({ name: 'points_cost', type: 'integer' }) pointsCost!: number;
  @Column({ name: 'stock', type: 'integer' }) stock!: number;
  @Column({ name: 'per_member_limit', type: 'integer', nullable: true }) perMemberLimit!: number | null;
  @Column({ name: 'coupon_value_fen', type: 'integer', nullable: true }) couponValueFen!: number | null;
  @Column({ name: 'coupon_min_spend_fen', type: 'integer', nullable: true }) couponMinSpendFen!: number | null;
  @Column({ name: 'coupon_valid_days', type: 'integer', nullable: true }) couponValidDays!: number | null;
  @Column({ name: 'shipping_card_period', type: 'text', nullable: true }) shippingCardPeriod!: 'monthly' | 'yearly' | null;
  @Column({ name: 'active', type: 'boolean' }) active!: boolean;
  @Column({ name: 'sort', type: 'integer' }) sort!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('mall_redemption')
export class MallRedemption {
  @PrimaryColumn({ name: 'id', type: 'uuid' }) id!: string;
  @Column({ name: 'member_id', type: 'uuid' }) memberId!: string;
  @Column({ name: 'item_id', type: 'uuid' }) itemId!: string;
  @Column({ name: 'idempotency_key', type: 'text' }) idempotencyKey!: string;
  @Column({ name: 'points_spent', type: 'integer' }) pointsSpent!: number;
  @Column({ name: 'status', type: 'text' }) status!: 'fulfilled' | 'pending_shipment' | 'shipped';
  @Column({ name: 'address', type: 'jsonb', nullable: true }) address!: Record<string, unknown> | null;
  @Column({ name: 'shipping_company', type: 'text', nullable: true }) shippingCompany!: string | null;
  @Column({ name: 'tracking_no', type: 'text', nullable: true }) trackingNo!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** How many of an item a member has redeemed: the per-member limit is a conditional update of this row. */
@Entity('mall_member_count')
export class MallMemberCount {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' }) memberId!: string;
  @PrimaryColumn({ name: 'item_id', type: 'uuid' }) itemId!: string;
  @Column({ name: 'redeemed', type: 'integer' }) redeemed!: number;
}

@Entity('member_coupon')
export class MemberCoupon {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'member_id', type: 'uuid' }) memberId!: string;
  @Column({ name: 'name', type: 'text' }) name!: string;
  @Column({ name: 'value_fen', type: 'integer' }) valueFen!: number;
  @Column({ name: 'min_spend_fen', type: 'integer' }) minSpendFen!: number;
  @Column({ name: 'redemption_id', type: 'uuid', nullable: true }) redemptionId!: string | null;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'used_order_id', type: 'uuid', nullable: true }) usedOrderId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** A free-shipping card (包邮卡): free shipping on every order placed while it runs. */
@Entity('member_shipping_card')
export class MemberShippingCard {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'member_id', type: 'uuid' }) memberId!: string;
  @Column({ name: 'period', type: 'text' }) period!: 'monthly' | 'yearly';
  @Column({ name: 'starts_at', type: 'timestamptz' }) startsAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'redemption_id', type: 'uuid', nullable: true }) redemptionId!: string | null;
}

@Entity('product')
export class Product {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'title', type: 'text' }) title!: string;
  @Column({ name: 'description', type: 'text' }) description!: string;
  @Column({ name: 'images', type: 'jsonb' }) images!: string[];
  @Column({ name: 'active', type: 'boolean' }) active!: boolean;
  @Column({ name: 'sort', type: 'integer' }) sort!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('product_sku')
export class ProductSku {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId!: string;
  @Column({ name: 'name', type: 'text' }) name!: string;
  @Column({ name: 'price_fen', type: 'integer' }) priceFen!: number;
  @Column({ name: 'stock', type: 'integer' }) stock!: number;
  @Column({ name: 'active', type: 'boolean' }) active!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('cart_item')
export class CartItem {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' }) memberId!: string;
  @PrimaryColumn({ name: 'sku_id', type: 'uuid' }) skuId!: string;
  @Column({ name: 'quantity', type: 'integer' }) quantity!: number;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

export type OrderStatus = 'pending_payment' | 'paid' | 'shipped' | 'completed' | 'cancelled' | 'refunded';

/** A store order; order_no is the out_trade_no WeChat Pay knows it by (the order id's 32 hex digits). */
@Entity('store_order')
export class StoreOrder {
  @PrimaryColumn({ name: 'id', type: 'uuid' }) id!: string;
  @Column({ name: 'order_no', type: 'text' }) orderNo!: string;
  @Column({ name: 'member_id', type: 'uuid' }) memberId!: string;
  @Column({ name: 'payer_openid', type: 'text' }) payerOpenid!: string;
  @Column({ name: 'idempotency_key', type: 'text' }) idempotencyKey!: string;
  @Column({ name: 'request_hash', type: 'text' }) requestHash!: string;
  @Column({ name: 'status', type: 'text' }) status!: OrderStatus;
  @Column({ name: 'goods_fen', type: 'integer' }) goodsFen!: number;
  @Column({ name: 'discount_fen', type: 'integer' }) discountFen!: number;
  @Column({ name: 'coupon_id', type: 'uuid', nullable: true }) couponId!: string | null;
  @Column({ name: 'coupon_fen', type: 'integer' }) couponFen!: number;
  @Column({ name: 'points_used', type: 'integer' }) pointsUsed!: number;
  @Column({ name: 'points_discount_fen', type: 'integer' }) pointsDiscountFen!: number;
  @Column({ name: 'shipping_fen', type: 'integer' }) shippingFen!: number;
  @Column({ name: 'payable_fen', type: 'integer' }) payableFen!: number;
  @Column({ name: 'points_awarded', type: 'integer' }) pointsAwarded!: number;
  @Column({ name: 'address', type: 'jsonb' }) address!: Record<string, unknown>;
  @Column({ name: 'prepay_id', type: 'text', nullable: true }) prepayId!: string | null;
  @Column({ name: 'transaction_id', type: 'text', nullable: true }) transactionId!: string | null;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true }) paidAt!: Date | null;
  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true }) cancelledAt!: Date | null;
  @Column({ name: 'cancel_reason', type: 'text', nullable: true }) cancelReason!: string | null;
  @Column({ name: 'shipping_company', type: 'text', nullable: true }) shippingCompany!: string | null;
  @Column({ name: 'tracking_no', type: 'text', nullable: true }) trackingNo!: string | null;
  @Column({ name: 'shipped_at', type: 'timestamptz', nullable: true }) shippedAt!: Date | null;
  @Column({ name: 'shipping_uploaded_at', type: 'timestamptz', nullable: true }) shippingUploadedAt!: Date | null;
  @Column({ name: 'shipping_upload_error', type: 'text', nullable: true }) shippingUploadError!: string | null;
  @Column({ name: 'out_refund_no', type: 'text', nullable: true }) outRefundNo!: string | null;
  @Column({ name: 'refund_status', type: 'text', nullable: true }) refundStatus!: 'processing' | 'succeeded' | 'failed' | null;
  @Column({ name: 'refund_reason', type: 'text', nullable: true }) refundReason!: string | null;
  @Column({ name: 'refund_error', type: 'text', nullable: true }) refundError!: string | null;
  @Column({ name: 'refunded_at', type: 'timestamptz', nullable: true }) refundedAt!: Date | null;
  @Column({ name: 'points_clawed_back', type: 'integer' }) pointsClawedBack!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('store_order_item')
export class StoreOrderItem {
  @PrimaryColumn({ name: 'order_id', type: 'uuid' }) orderId!: string;
  @PrimaryColumn({ name: 'sku_id', type: 'uuid' }) skuId!: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId!: string;
  @Column({ name: 'title', type: 'text' }) title!: string;
  @Column({ name: 'sku_name', type: 'text' }) skuName!: string;
  @Column({ name: 'quantity', type: 'integer' }) quantity!: number;
  @Column({ name: 'list_price_fen', type: 'integer' }) listPriceFen!: number;
  @Column({ name: 'unit_price_fen', type: 'integer' }) unitPriceFen!: number;
  /** How many of this line were refunded (after-sales by line). */
  @Column({ name: 'refunded_quantity', type: 'integer', default: 0 }) refundedQuantity!: number;
}

export const storeEntities = [
  StoreAddress,
  MallItem,
  MallRedemption,
  MallMemberCount,
  MemberCoupon,
  MemberShippingCard,
  Product,
  ProductSku,
  CartItem,
  StoreOrder,
  StoreOrderItem,
];
