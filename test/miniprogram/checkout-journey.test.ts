import { systemCtx } from '../../server/infra/db';
import { STORE_TRADE_PREFIX } from '../../server/modules/store/orders.service';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { ordersFile } from '../taobao/taobao-files';
import { createWxShim, type ShimPayment, type WxShim } from './helpers/wx-shim';
import { config } from '../../miniprogram/src/config';
import { login } from '../../miniprogram/src/services/request';
import { acceptPrivacy } from '../../miniprogram/src/services/privacy.service';
import { bindTaobaoOrder } from '../../miniprogram/src/services/binding.service';
import { fetchMemberCard } from '../../miniprogram/src/services/member.service';
import { fetchPointsHistory, redeemMallItem } from '../../miniprogram/src/services/points.service';
import { createAddress } from '../../miniprogram/src/services/address.service';
import { fetchOrder, placeOrder, quoteOrder, requestPayment } from '../../miniprogram/src/services/order.service';
import { fetchWallet } from '../../miniprogram/src/services/wallet.service';
import { checkoutSummary } from '../../miniprogram/src/models/checkout.model';
import type { CheckoutQuote } from '../../miniprogram/src/models/api-types';

/**
 * The checkout quote against the real server: what the member is shown before paying is what the order carries
 * and what WeChat Pay (the sandbox) takes, for shipping, the free-shipping threshold, a 包邮卡, a coupon, points
 * and a tier perk — all through the mini-program's own services over a real port.
 */
describe('checkout quote equals the charge', () => {
  let t: SandboxTestApp;
  let shim: WxShim;
  let person: { id: string };
  let addressId: string;
  const skus: Record<'small' | 'big', string> = { small: '', big: '' };
  const SILVER_ORDER = { orderNo: '2036455525271598911', nick: 'q**t', phone: "'137****5511", total: '1200.00', status: '交易成功' };
  const originalBaseUrl = config.apiBaseUrl;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    t = await buildSandboxApp({ WXPAY_SANDBOX_TIME_SCALE: '0.001' });
    const admin = await t.ownerAuth();
    const tiers = await t.app.inject({
      method: 'PUT',
      url: '/api/admin/tiers',
      headers: admin,
      payload: [
        { code: 'regular', name: '普通会员', rank: 0, minSpend12mFen: 0, minOrders12m: 0, perks: { freeShipping: false, discountPercent: 0, pointsMultiplier: 1, birthdayGift: false } },
        { code: 'silver', name: '银卡会员', rank: 1, minSpend12mFen: 100_000, minOrders12m: 0, perks: { freeShipping: true, discountPercent: 5, pointsMultiplier: 1, birthdayGift: false } },
      ],
    });
    expect(tiers.statusCode).toBe(200);
    const imp = t.app.services.taobaoImport;
    await imp.run({}, await imp.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: ordersFile([SILVER_ORDER]) }));
    const product = await t.app.inject({
      method: 'POST',
      url: '/api/admin/products',
      headers: admin,
      payload: { title: '白毫银针', description: '50 克', images: [], skus: [{ name: '小样', priceFen: 2900, stock: 50 }, { name: '礼罐', priceFen: 12000, stock: 50 }] },
    });
    expect(product.statusCode).toBe(200);
    [skus.small, skus.big] = product.json().skus.map((s: { id: string }) => s.id);
    for (const item of [
      { kind: 'coupon', name: '满100减15', pointsCost: 100, stock: 10, couponValueFen: 1500, couponMinSpendFen: 10000, couponValidDays: 30 },
      { kind: 'shipping_card', name: '包邮月卡', pointsCost: 200, stock: 10, shippingCardPeriod: 'monthly' },
    ]) {
      expect((await t.app.inject({ method: 'POST', url: '/api/admin/mall/items', headers: admin, payload: item })).statusCode).toBe(200);
    }

    person = (await t.sandbox('POST', '/people', { nickname: '算账的人' })).body;
    shim = createWxShim({
      loginCode: async () => (await t.sandbox('POST', `/people/${person.id}/login-code`, {})).body.code,
      pay: async (payment: ShimPayment) => {
        const res = await t.sandbox('POST', `/people/${person.id}/pay`, { prepayId: payment.package.replace(/^prepay_id=/, '') });
        if (res.status !== 200) throw new Error(`pay refused: ${res.body.code}`);
      },
    });
    shim.install();
    config.apiBaseUrl = t.baseUrl;
    const first = await login();
    await acceptPrivacy(first.privacy.version);
    await t.app.services.points.earn(systemCtx, { memberId: first.member.id, amount: 20000, idempotencyKey: 'journey-grant', reason: '测试发放' });
    addressId = (await createAddress({ name: '算账', phone: '13712345511', province: '福建省', city: '宁德市', district: '福鼎市', detail: '太姥山镇 1 号', isDefault: true })).id;
  });

  afterAll(async () => {
    config.apiBaseUrl = originalBaseUrl;
    shim.uninstall();
    await t.close();
  });

  /** Quotes, places and pays the same body; returns the quote after checking the order and the payment carry it. */
  async function buy(body: { items: { skuId: string; quantity: number }[]; pointsToUse: number; couponId?: string }): Promise<CheckoutQuote> {
    const quote = await quoteOrder(body);
    const placed = await placeOrder({ ...body, addressId });
    const { goodsFen, discountFen, pointsDiscountFen, shippingFen, payableFen } = quote;
    expect(placed.order).toMatchObject({ goodsFen, discountFen, pointsUsed: body.pointsToUse, pointsDiscountFen, shippingFen, payableFen });
    expect(await requestPayment(placed.payment)).toBe('paid');
    let order = await fetchOrder(placed.order.id);
    for (let i = 0; i < 150 && order.status !== 'paid'; i++) {
      await sleep(100);
      order = await fetchOrder(placed.order.id);
    }
    expect(order.status).toBe('paid');
    // WeChat Pay's own record of what it took from the member.
    const charged = t.app.paySandbox!.queryOrder({ outTradeNo: `${STORE_TRADE_PREFIX}${order.orderNo}` }, t.app.paySandbox!.keys.mchid);
    expect([charged.trade_state, charged.amount?.total, charged.amount?.payer_total]).toEqual(['SUCCESS', payableFen, payableFen]);
    return quote;
  }

  it('a ¥29 order shows and charges ¥39.00 with shipping, and the threshold ships free', async () => {
    const small = await buy({ items: [{ skuId: skus.small, quantity: 1 }], pointsToUse: 0 });
    expect(small).toMatchObject({ goodsFen: 2900, shippingFen: 1000, freeShipping: null, payableFen: 3900 });
    expect(checkoutSummary(small)).toMatchObject({ shippingText: '¥10.00', payableText: '¥39.00', freeShippingHint: '再买 ¥70.00 包邮' });
    const big = await buy({ items: [{ skuId: skus.big, quantity: 1 }], pointsToUse: 0 });
    expect(big).toMatchObject({ goodsFen: 12000, shippingFen: 0, freeShipping: 'threshold', payableFen: 12000 });
  });

  it('a coupon from the points mall and points capped by the 50 % rule', async () => {
    const items = (await t.app.inject({ method: 'GET', url: '/api/admin/mall/items', headers: await t.ownerAuth() })).json() as Array<{ id: string; kind: string }>;
    await redeemMallItem(items.find((i) => i.kind === 'coupon')!.id);
    const [coupon] = (await fetchWallet()).coupons;
    expect(coupon).toMatchObject({ name: '满100减15', valueFen: 1500, minSpendFen: 10000 });
    const probe = await quoteOrder({ items: [{ skuId: skus.big, quantity: 1 }], pointsToUse: 0, couponId: coupon!.id });
    expect(probe.maxPoints).toBe(5250); // (120.00 − 15.00) × 50 %
    const q = await buy({ items: [{ skuId: skus.big, quantity: 1 }], pointsToUse: probe.maxPoints, couponId: coupon!.id });
    expect(q).toMatchObject({ couponFen: 1500, pointsDiscountFen: 5250, payableFen: 12000 - 1500 - 5250 });
    expect((await fetchWallet()).coupons).toEqual([]);
  });

  it('a 包邮卡 ships a small order free', async () => {
    const items = (await t.app.inject({ method: 'GET', url: '/api/admin/mall/items', headers: await t.ownerAuth() })).json() as Array<{ id: string; kind: string }>;
    await redeemMallItem(items.find((i) => i.kind === 'shipping_card')!.id);
    expect((await fetchWallet()).shippingCardUntil).toEqual(expect.any(String));
    const q = await buy({ items: [{ skuId: skus.small, quantity: 2 }], pointsToUse: 0 });
    expect(q).toMatchObject({ goodsFen: 5800, shippingFen: 0, freeShipping: 'shipping_card', payableFen: 5800 });
    expect(checkoutSummary(q).shippingText).toBe('包邮（包邮卡）');
  });

  it('a tier perk: the member price and free shipping of silver', async () => {
    await bindTaobaoOrder(SILVER_ORDER.orderNo, '5511');
    expect((await fetchMemberCard()).tier.code).toBe('silver');
    const q = await buy({ items: [{ skuId: skus.small, quantity: 1 }], pointsToUse: 100 });
    expect(q).toMatchObject({ goodsFen: 2900, memberGoodsFen: 2755, memberDiscountFen: 145, shippingFen: 0, freeShipping: 'tier', pointsDiscountFen: 100, payableFen: 2655 });
    expect(checkoutSummary(q)).toMatchObject({ memberDiscountText: '-¥1.45', shippingText: '包邮（会员权益）', payableText: '¥26.55' });

    // The points history names the orders by the numbers people read, with Chinese reasons.
    const history = (await fetchPointsHistory(null)).items;
    expect(history.find((e) => e.code === 'taobao_purchase')).toMatchObject({ label: '淘宝订单积分', orderNo: SILVER_ORDER.orderNo, delta: 1200 });
    const used = history.find((e) => e.code === 'store_points_used' && e.delta === -100);
    expect(used).toMatchObject({ label: '下单积分抵扣', orderNo: expect.stringMatching(/^\d{16}$/) });
  });
});
