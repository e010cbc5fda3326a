/**
 * @jest-environment jsdom
 */
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, loginReply, routes, type FakeWx } from './helpers/fake-wx';
import type { ProductDetail } from '../../miniprogram/src/models/api-types';

const storeId = loadPage('pages/store/index');
const productId = loadPage('packages/store/product/index');
const bindId = loadPage('packages/bind/index');

const product: ProductDetail = {
  id: 'p-1', title: '羊毛围巾', description: '100% 美利奴羊毛', images: ['https://img.example.com/p1.jpg'],
  skus: [
    { id: 'sku-0', name: '黑色', priceFen: 9900, memberPriceFen: 8900, stock: 0 },
    { id: 'sku-1', name: '燕麦色', priceFen: 9900, memberPriceFen: 7900, stock: 5 },
  ],
};

let fake: FakeWx;
let cartQuantity: number;

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
  cartQuantity = 1;
  fake.setHandler(
    routes({
      'GET /api/mp/products': () => ({ status: 200, body: [{ id: 'p-1', title: '羊毛围巾', imageUrl: null, priceFen: 9900, memberPriceFen: 7900, stock: 5 }] }),
      'GET /api/mp/products/p-1': () => ({ status: 200, body: product }),
      'GET /api/mp/cart': () => ({ status: 200, body: { items: [{ skuId: 'sku-1', productId: 'p-1', title: '羊毛围巾', skuName: '燕麦色', imageUrl: null, priceFen: 9900, memberPriceFen: 7900, quantity: cartQuantity, stock: 5 }] } }),
      'PUT /api/mp/cart/items': (req) => {
        cartQuantity = (req.data as { quantity: number }).quantity;
        return { status: 200, body: { items: [] } };
      },
      'POST /api/mp/bindings': (req) => {
        const { orderNo } = req.data as { orderNo: string };
        if (orderNo.endsWith('0')) return { status: 400, body: { code: 'phone_mismatch', message: 'phone mismatch' } };
        return { status: 200, body: { taobaoBuyer: { nickMasked: 't**3', channelName: '天猫旗舰店', ordersCount: 3 }, pointsAwarded: 150 } };
      },
    }),
  );
});



describe('store tab', () => {
  it('lists member prices beside list prices and shares the store', async () => {
    const page = mount(storeId);
    await page.instance.load();
    await settle();
    expect(page.querySelector('.price')?.dom?.textContent).toBe('¥79.00');
    expect(page.querySelector('.strike')?.dom?.textContent).toBe('¥99.00');
    expect(page.querySelector('.cart-count')?.dom?.textContent).toBe('1');
    expect(page.instance.onShareAppMessage()).toEqual({ title: '会员商城：会员价 + 积分抵现', path: '/pages/store/index' });
    page.querySelector('.product')?.dispatchEvent('tap');
    await settle();
    expect(fake.navigations).toEqual(['/packages/store/product/index?id=p-1']);
  });
});

describe('product page', () => {
  it('starts on the first SKU in stock, adds to what the cart holds, and shares the product', async () => {
    const page = mount(productId);
    await page.instance.onLoad({ id: 'p-1' });
    await settle();
    expect(page.instance.data.skuIndex).toBe(1);
    expect(page.querySelector('.big')?.dom?.textContent).toBe('¥79.00');

    page.instance.changeQuantity({ currentTarget: { dataset: { delta: 1 } } });
    await page.instance.addToCart();
    expect(cartQuantity).toBe(3);
    expect(fake.toasts).toContain('已加入购物车');

    expect(page.instance.onShareAppMessage()).toEqual({
      title: '羊毛围巾 会员价 ¥79.00 起',
      path: '/packages/store/product/index?id=p-1',
      imageUrl: 'https://img.example.com/p1.jpg',
    });
    page.instance.buyNow();
    expect(fake.navigations).toEqual(['/packages/store/checkout/index?productId=p-1&skuId=sku-1&quantity=2']);
  });
});

describe('product page without a member discount, or unreachable', () => {
  it('says 会员价 only where members pay less', async () => {
    fake.setHandler(
      routes({
        'GET /api/mp/products/p-2': () => ({
          status: 200,
          body: { id: 'p-2', title: '帆布袋', description: '', images: [], skus: [{ id: 'sku-9', name: '本色', priceFen: 3900, memberPriceFen: 3900, stock: 3 }] },
        }),
      }),
    );
    const page = mount(productId);
    await page.instance.onLoad({ id: 'p-2' });
    await settle();
    expect(page.querySelector('.big')?.dom?.textContent).toBe('¥39.00');
    expect(page.querySelector('.member-note')).toBeUndefined();
    expect(page.querySelector('.strike')).toBeUndefined();
    expect(page.instance.onShareAppMessage().title).toBe('帆布袋 ¥39.00 起');
  });

  it('shows the failure and a retry instead of loading for good', async () => {
    let up = false;
    fake.setHandler((req) => (new URL(req.url).pathname === '/api/mp/login' ? loginReply('tok') : up ? { status: 200, body: product } : 'network_error'));
    const page = mount(productId);
    await page.instance.onLoad({ id: 'p-1' });
    await settle();
    expect(page.querySelector('.loading')).toBeUndefined();
    expect(page.querySelector('.error-text')?.dom?.textContent).toBe('网络连接失败，请检查网络后重试');
    up = true;
    await page.instance.retry();
    await settle();
    expect(page.querySelector('.load-error')).toBeUndefined();
    expect(page.querySelector('.big')?.dom?.textContent).toBe('¥79.00');
  });
});

describe('bind page', () => {
  function acceptPrivacy() {
    fake.storage.set('snowball.privacy', { version: '2026-11', accepted: true });
  }

  it('checks the form before sending and never asks for a follow', async () => {
    acceptPrivacy();
    const page = mount(bindId);
    expect(page.dom?.textContent).toContain('绑定无需关注公众号');
    page.instance.onOrderNo({ detail: { value: '订单号: 1234 5678' } });
    page.instance.onPhone({ detail: { value: '6392' } });
    await page.instance.submit();
    expect(page.instance.data.orderNo).toBe('12345678');
    expect(page.querySelector('.error')?.dom?.textContent).toMatch(/18–19 位数字/);
    expect(fake.requests.some((r) => r.url.endsWith('/api/mp/bindings'))).toBe(false);
  });

  it('binds an order and shows the masked buyer and the points', async () => {
    acceptPrivacy();
    const page = mount(bindId);
    page.instance.onOrderNo({ detail: { value: '3958202211223344551' } });
    page.instance.onPhone({ detail: { value: '6392' } });
    await page.instance.submit();
    await settle();
    expect(fake.requests.find((r) => r.url.endsWith('/api/mp/bindings'))?.data).toEqual({ orderNo: '3958202211223344551', phoneLast4: '6392' });
    expect(page.querySelector('.done-text')?.dom?.textContent).toBe('已绑定天猫旗舰店 买家 t**3，获得 150 积分');
  });

  it('shows the Chinese message of a refused binding', async () => {
    acceptPrivacy();
    const page = mount(bindId);
    page.instance.onOrderNo({ detail: { value: '3958202211223344550' } });
    page.instance.onPhone({ detail: { value: '1111' } });
    await page.instance.submit();
    expect(fake.toasts).toEqual(['手机号后四位与订单不一致']);
    expect(page.querySelector('.done-text')).toBeUndefined();
  });

  it('sends nothing before the privacy notice is accepted', async () => {
    const page = mount(bindId);
    page.instance.onOrderNo({ detail: { value: '3958202211223344551' } });
    page.instance.onPhone({ detail: { value: '6392' } });
    await page.instance.submit();
    expect(page.instance.data.error).toBe('请先阅读并同意隐私保护指引');
    expect(fake.requests.some((r) => r.url.endsWith('/api/mp/bindings'))).toBe(false);
  });
});
