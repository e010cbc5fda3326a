import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { ordersFile } from '../taobao/taobao-files';
import { createWxShim, type ShimPayment, type WxShim } from './helpers/wx-shim';
import { config } from '../../miniprogram/src/config';
import { ApiError, login } from '../../miniprogram/src/services/request';
import { getPrivacyState } from '../../miniprogram/src/services/session';
import { acceptPrivacy, hasAcceptedPrivacy } from '../../miniprogram/src/services/privacy.service';
import { checkIn, fetchCheckInMonth } from '../../miniprogram/src/services/check-in.service';
import { bindTaobaoOrder } from '../../miniprogram/src/services/binding.service';
import { fetchMemberCard } from '../../miniprogram/src/services/member.service';
import { fetchPointsHistory } from '../../miniprogram/src/services/points.service';
import { createAddress, fetchAddresses } from '../../miniprogram/src/services/address.service';
import { fetchCart, fetchProduct, fetchProducts, setCartQuantity } from '../../miniprogram/src/services/store.service';
import { fetchOrder, fetchOrders, placeOrder, requestPayment } from '../../miniprogram/src/services/order.service';

/**
 * The member's whole day in the mini-program, with the mini-program's own request wrapper and services talking to
 * the real server over a real port (the `wx` shim's wx.request is fetch), WeChat and WeChat Pay played by the sandbox.
 */
describe('mini-program journey against the real server', () => {
  let t: SandboxTestApp;
  let shim: WxShim;
  let person: { id: string; mpOpenid: string };
  let skuId: string;
  const ORDER_NO = '2036455525271598801';
  const originalBaseUrl = config.apiBaseUrl;
  const paidPrepays: { prepayId: string; transactionId: string }[] = [];

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    t = await buildSandboxApp({ WXPAY_SANDBOX_TIME_SCALE: '0.001' });
    const imp = t.app.services.taobaoImport;
    const file = ordersFile([{ orderNo: ORDER_NO, nick: 'l**i', phone: "'137****2468", total: '129.90', status: '交易成功' }]);
    await imp.run({}, await imp.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: file }));

    const admin = await t.ownerAuth();
    const product = await t.app.inject({
      method: 'POST',
      url: '/api/admin/products',
      headers: admin,
      payload: { title: '明前龙井', description: '250 克罐装', images: ['https://img.example.com/longjing.jpg'], skus: [{ name: '250g', priceFen: 12800, stock: 3 }] },
    });
    expect(product.statusCode).toBe(200);
    skuId = product.json().skus[0].id;

    person = (await t.sandbox('POST', '/people', { nickname: '李雷' })).body;
    shim = createWxShim({
      // Each wx.login asks the WeChat sandbox for a fresh one-time code of this person.
      loginCode: async () => (await t.sandbox('POST', `/people/${person.id}/login-code`, {})).body.code,
      // The member confirms in WeChat's payment sheet: the sandbox pays the prepay named in the package.
      pay: async (payment: ShimPayment) => {
        const prepayId = payment.package.replace(/^prepay_id=/, '');
        const res = await t.sandbox('POST', `/people/${person.id}/pay`, { prepayId });
        if (res.status !== 200) throw new Error(`pay refused: ${res.body.code}`);
        paidPrepays.push({ prepayId, transactionId: res.body.transactionId });
      },
    });
    shim.install();
    config.apiBaseUrl = t.baseUrl;
  });

  afterAll(async () => {
    config.apiBaseUrl = originalBaseUrl;
    shim.uninstall();
    await t.close();
  });

  it('logs in, accepts the privacy notice, checks in, binds a Taobao order, adds an address, buys with points and pays', async () => {
    // First open: the wrapper logs in with a sandbox code; the server asks for the privacy notice.
    const first = await login();
    expect(first.token).toEqual(expect.any(String));
    expect(first.privacy.accepted).toBe(false);
    expect(hasAcceptedPrivacy()).toBe(false);
    await acceptPrivacy(first.privacy.version);
    expect(getPrivacyState()).toEqual({ version: first.privacy.version, accepted: true });

    // Check-in: once a day; a second tap is refused with a stable code and a Chinese message.
    const day = await checkIn();
    expect(day.streak).toBe(1);
    expect(day.reward.points).toBeGreaterThan(0);
    const again = await checkIn().catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ApiError);
    expect((again as ApiError).code).toBe('already_checked_in');
    expect((again as ApiError).message).toMatch(/[\u4e00-\u9fff]/);
    const month = await fetchCheckInMonth(day.date.slice(0, 7));
    expect(JSON.stringify(month)).toContain(day.date);

    // Bind the Taobao order: wrong digits are refused, the right ones bind and bring the order's points.
    const wrong = await bindTaobaoOrder(ORDER_NO, '0000').catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect([(wrong as ApiError).status, (wrong as ApiError).code]).toEqual([400, 'phone_mismatch']);
    const bound = await bindTaobaoOrder(ORDER_NO, '2468');
    expect(bound.taobaoBuyer).toMatchObject({ nickMasked: 'l**i' });
    const card = await fetchMemberCard();
    expect(card.taobaoBuyer).toMatchObject({ nickMasked: 'l**i' });
    expect(card.pointsBalance).toBeGreaterThan(day.reward.points);
    const balanceBefore = card.pointsBalance;

    // Address book: the list masks the phone.
    const address = await createAddress({ name: '李雷', phone: '13712342468', province: '浙江省', city: '杭州市', district: '西湖区', detail: '龙井路 1 号', isDefault: true });
    expect((await fetchAddresses()).map((a) => a.phone)).toEqual(['137****2468']);

    // Store: the product, the cart.
    const products = await fetchProducts();
    const listed = products.find((p) => p.title === '明前龙井');
    expect(listed).toBeDefined();
    const detail = await fetchProduct(listed!.id);
    expect(detail.skus.map((s) => s.id)).toEqual([skuId]);
    const cart = await setCartQuantity(skuId, 1);
    expect(cart.items).toEqual([expect.objectContaining({ skuId, quantity: 1, priceFen: 12800 })]);
    expect((await fetchCart()).items).toHaveLength(1);

    // Checkout with points, then WeChat Pay in the sandbox.
    const pointsToUse = Math.min(100, balanceBefore);
    const placed = await placeOrder({ items: [{ skuId, quantity: 1 }], addressId: address.id, pointsToUse });
    expect(placed.order).toMatchObject({ status: 'pending_payment', pointsUsed: pointsToUse, pointsDiscountFen: pointsToUse });
    expect(placed.order.payableFen).toBe(placed.order.goodsFen - placed.order.discountFen - pointsToUse + placed.order.shippingFen);
    expect(placed.payment).toMatchObject({ signType: 'RSA', package: expect.stringMatching(/^prepay_id=wx/) });
    expect((await fetchMemberCard()).pointsBalance).toBe(balanceBefore - pointsToUse);

    const outcome = await requestPayment(placed.payment);
    expect(outcome).toBe('paid');
    expect(paidPrepays.map((p) => p.prepayId)).toEqual([placed.payment.package.slice('prepay_id='.length)]);

    // The order turns paid only by WeChat Pay's signed notification to /wechatpay/notify; the page polls for it.
    let order = await fetchOrder(placed.order.id);
    const deadline = Date.now() + 15_000;
    while (order.status !== 'paid' && Date.now() < deadline) {
      await sleep(100);
      order = await fetchOrder(placed.order.id);
    }
    expect(order.status).toBe('paid');
    expect(order.paidAt).toEqual(expect.any(String));
    expect((await fetchOrders('paid')).map((o) => o.id)).toEqual([placed.order.id]);

    // WeChat Pay's own transaction id arrived with the notification; the stock was taken; the purchase earned points.
    const [row] = await t.app.infra.db.dataSource.query('SELECT transaction_id, points_awarded FROM store_order WHERE id = $1', [placed.order.id]);
    expect(row.transaction_id).toBe(paidPrepays[0]!.transactionId);
    expect(row.points_awarded).toBeGreaterThan(0);
    const [{ stock }] = await t.app.infra.db.dataSource.query('SELECT stock FROM product_sku WHERE id = $1', [skuId]);
    expect(stock).toBe(2);
    const afterPay = await fetchMemberCard();
    expect(afterPay.pointsBalance).toBe(balanceBefore - pointsToUse + row.points_awarded);
    const history = await fetchPointsHistory(null);
    expect(history.items.length).toBeGreaterThanOrEqual(4);
    expect(history.items.some((e) => e.delta === -pointsToUse)).toBe(true);

    // Everything went through wx.request over HTTP with the session the wrapper keeps.
    expect(shim.requests.every((r) => r.url.startsWith(t.baseUrl))).toBe(true);
    expect(shim.requests.filter((r) => r.url.endsWith('/api/mp/login'))).toHaveLength(1);
  });

  it('logs in again by itself when the server revokes the session', async () => {
    await t.app.infra.db.dataSource.query('UPDATE mp_session SET expires_at = now() - interval \'1 minute\'');
    const card = await fetchMemberCard();
    expect(card.taobaoBuyer).toMatchObject({ nickMasked: 'l**i' });
    expect(shim.requests.filter((r) => r.url.endsWith('/api/mp/login'))).toHaveLength(2);
    expect(shim.requests.some((r) => r.url.endsWith('/api/mp/me') && r.status === 401)).toBe(true);
  });
});
