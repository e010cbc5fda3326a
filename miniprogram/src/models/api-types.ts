// API shapes exactly as miniprogram/API.md defines them; views never see these directly.

export interface TierPerks {
  freeShipping: boolean;
  discountPercent: number;
  pointsMultiplier: number;
  birthdayGift: boolean;
}

export interface TaobaoBuyer {
  nickMasked: string;
  channelName: string;
  ordersCount: number;
}

export interface MemberCard {
  id: string;
  nickname: string | null;
  avatarUrl: string | null;
  tier: { code: string; name: string; perks: TierPerks };
  pointsBalance: number;
  expiringPoints: { points: number; expiresAt: string } | null;
  taobaoBuyer: TaobaoBuyer | null;
  memberCode: string;
}

export interface PrivacyState {
  version: string;
  accepted: boolean;
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  member: MemberCard;
  privacy: PrivacyState;
}

export interface BindingResult {
  taobaoBuyer: TaobaoBuyer;
  pointsAwarded: number;
}

export interface CheckInResult {
  date: string;
  streak: number;
  reward: { points: number; couponName: string | null };
  pointsBalance: number;
}

export interface CheckInDay {
  date: string;
  checkedIn: boolean;
  madeUp: boolean;
}

export interface CheckInRules {
  basePoints: number;
  day7Bonus: number;
  day30Bonus: number;
  makeUpCostPoints: number;
}

export interface CheckInMonth {
  month: string;
  today: string;
  todayCheckedIn: boolean;
  streak: number;
  makeUpCards: number;
  days: CheckInDay[];
  rules: CheckInRules;
}

export interface PointsEntry {
  id: string;
  delta: number;
  reason: string;
  // Stable reason code (store_purchase, taobao_purchase, check_in, mall_redemption, …) and its Chinese label.
  code: string;
  label: string;
  // The readable number of the order the entry belongs to.
  orderNo: string | null;
  createdAt: string;
}

export interface PointsHistoryPage {
  items: PointsEntry[];
  nextCursor: string | null;
}

export type MallItemKind = 'coupon' | 'shipping_card' | 'gift';

export interface MallItem {
  id: string;
  kind: MallItemKind;
  name: string;
  description: string;
  imageUrl: string | null;
  pointsCost: number;
  stock: number;
  perMemberLimit: number | null;
  redeemedByMe: number;
  needsAddress: boolean;
}

export interface Redemption {
  id: string;
  itemId: string;
  pointsSpent: number;
  pointsBalance: number;
  status: string;
}

export interface ProductSummary {
  id: string;
  title: string;
  imageUrl: string | null;
  priceFen: number;
  memberPriceFen: number;
  stock: number;
}

export interface Sku {
  id: string;
  name: string;
  priceFen: number;
  memberPriceFen: number;
  stock: number;
}

export interface ProductDetail {
  id: string;
  title: string;
  description: string;
  images: string[];
  skus: Sku[];
}

export interface CartItem {
  skuId: string;
  productId: string;
  title: string;
  skuName: string;
  imageUrl: string | null;
  priceFen: number;
  memberPriceFen: number;
  quantity: number;
  stock: number;
}

export interface Cart {
  items: CartItem[];
}

export interface Address {
  id: string;
  name: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  detail: string;
  isDefault: boolean;
}

export type AddressInput = Omit<Address, 'id'>;

export type OrderStatus = 'pending_payment' | 'paid' | 'shipped' | 'completed' | 'cancelled' | 'refunded';

export interface OrderItem {
  skuId: string;
  title: string;
  skuName: string;
  quantity: number;
  unitPriceFen: number;
}

export interface Order {
  id: string;
  orderNo: string;
  status: OrderStatus;
  items: OrderItem[];
  goodsFen: number;
  discountFen: number;
  pointsUsed: number;
  pointsDiscountFen: number;
  shippingFen: number;
  payableFen: number;
  address: Address | null;
  createdAt: string;
  paidAt: string | null;
  shipping: { company: string; trackingNo: string } | null;
}

export interface PaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export interface PlaceOrderInput {
  items: { skuId: string; quantity: number }[];
  addressId: string;
  pointsToUse: number;
  couponId?: string;
}

export interface PlacedOrder {
  order: Order;
  payment: PaymentParams;
}

export type FreeShippingReason = 'tier' | 'shipping_card' | 'threshold';

// POST /api/mp/checkout/quote: the figures the order of the same body will carry.
export interface CheckoutQuote {
  items: { skuId: string; productId: string; title: string; skuName: string; quantity: number; listPriceFen: number; unitPriceFen: number }[];
  goodsFen: number;
  memberGoodsFen: number;
  memberDiscountFen: number;
  couponId: string | null;
  couponFen: number;
  discountFen: number;
  shippingFen: number;
  freeShipping: FreeShippingReason | null;
  freeShippingOverFen: number;
  pointsBalance: number;
  maxPoints: number;
  pointsToUse: number;
  pointsDiscountFen: number;
  payableFen: number;
}

export interface WalletCoupon {
  id: string;
  name: string;
  valueFen: number;
  minSpendFen: number;
  expiresAt: string;
}

export interface Wallet {
  coupons: WalletCoupon[];
  shippingCardUntil: string | null;
}

export interface WalletRedemption {
  id: string;
  itemId: string;
  name: string;
  kind: string;
  pointsSpent: number;
  status: string;
  shipping: { company: string; trackingNo: string } | null;
  createdAt: string;
}
