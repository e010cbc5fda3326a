// The API's shapes under the names the mini-program uses, each read from api.generated.ts (generated from the
// server's OpenAPI document by `npm run gen:api-types`): a change of the server's schema reaches every view through
// typecheck. Views never see these directly; the models turn them into view shapes.
import type { paths } from './api.generated';

type Method = 'get' | 'post' | 'put' | 'delete';
type JsonOf<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Operation<P extends keyof paths, M extends Method> = Exclude<paths[P][M], undefined>;

/** What the route answers with this status (200 unless said). */
type Reply<P extends keyof paths, M extends Method, S extends number = 200> = Operation<P, M> extends { responses: infer R }
  ? S extends keyof R
    ? JsonOf<R[S]>
    : never
  : never;

/** The JSON body the route takes. */
type Body<P extends keyof paths, M extends Method> = Operation<P, M> extends { requestBody?: infer B } ? JsonOf<Exclude<B, undefined>> : never;

export type MemberCard = Reply<'/api/mp/me', 'get'>;
export type TierPerks = MemberCard['tier']['perks'];
export type TaobaoBuyer = NonNullable<MemberCard['taobaoBuyer']>;

export type LoginResult = Reply<'/api/mp/login', 'post'>;
export type PrivacyState = LoginResult['privacy'];

export type BindingResult = Reply<'/api/mp/bindings', 'post'>;

export type CheckInResult = Reply<'/api/mp/check-ins', 'post'>;
export type CheckInMonth = Reply<'/api/mp/check-ins', 'get'>;
export type CheckInDay = CheckInMonth['days'][number];
export type CheckInRules = CheckInMonth['rules'];

export type GiftBox = Reply<'/api/mp/gift-boxes/{id}', 'get'>;
/** POST /api/mp/gift-boxes answers 201 with the box's summary. */
export type GiftBoxStarted = Pick<GiftBox, 'id' | 'campaignId' | 'status' | 'helps' | 'helpsRequired'>;
export type GiftBoxHelped = Reply<'/api/mp/gift-boxes/{id}/helps', 'post'>;

export type PointsHistoryPage = Reply<'/api/mp/points/history', 'get'>;
export type PointsEntry = PointsHistoryPage['items'][number];

export type MallItem = Reply<'/api/mp/mall/items', 'get'>[number];
export type MallItemKind = MallItem['kind'];
export type Redemption = Reply<'/api/mp/mall/redemptions', 'post'>;

export type ProductSummary = Reply<'/api/mp/products', 'get'>[number];
export type ProductDetail = Reply<'/api/mp/products/{id}', 'get'>;
export type Sku = ProductDetail['skus'][number];

export type Cart = Reply<'/api/mp/cart', 'get'>;
export type CartItem = Cart['items'][number];

export type Address = Reply<'/api/mp/addresses/{id}', 'put'>;
export type AddressInput = Required<Body<'/api/mp/addresses', 'post'>>;

export type Order = Reply<'/api/mp/orders/{id}', 'get'>;
export type OrderStatus = Order['status'];
export type OrderItem = Order['items'][number];

// The mini-program always sends the chosen address and its points choice (the server defaults them otherwise).
export type PlaceOrderInput = Body<'/api/mp/orders', 'post'> & { addressId: string; pointsToUse: number };
export type PlacedOrder = Reply<'/api/mp/orders', 'post'>;
export type PaymentParams = PlacedOrder['payment'];

// POST /api/mp/checkout/quote: the figures the order of the same body will carry.
export type CheckoutQuote = Reply<'/api/mp/checkout/quote', 'post'>;
export type FreeShippingReason = NonNullable<CheckoutQuote['freeShipping']>;

export type Wallet = Reply<'/api/mp/wallet', 'get'>;
export type WalletCoupon = Wallet['coupons'][number];
export type WalletRedemption = Reply<'/api/mp/mall/redemptions', 'get'>[number];

export type ReviewClaim = Reply<'/api/mp/review-claims', 'get'>[number];
export type TransferPackage = Reply<'/api/mp/review-claims/{id}/transfer', 'get'>;

export type AfterSale = Reply<'/api/mp/orders/{id}/after-sales', 'get'>[number];
export type AfterSaleStatus = AfterSale['status'];
