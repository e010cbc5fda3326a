/**
 * @jest-environment jsdom
 */
import simulate from 'miniprogram-simulate';
import { createFakeWx, installFakeWx, routes, type FakeWx } from './helpers/fake-wx';
import { loadPage, mount, settle } from './helpers/simulate';
import type { Wallet, WalletRedemption } from '../../miniprogram/src/models/api-types';

simulate.load({ id: 'button', tagName: 'wx-button', template: '<slot/>', properties: { disabled: { type: Boolean, value: false } } });
const pageId = loadPage('packages/wallet/index');

const wallet: Wallet = {
  coupons: [
    { id: '0b6c3f1e-2a4d-4b5e-8f7a-9c0d1e2f3a4b', name: '满100减15', valueFen: 1500, minSpendFen: 10000, expiresAt: '2026-12-31T15:59:59.000Z' },
    { id: '1c7d4a2f-3b5e-4c6f-9a8b-0d1e2f3a4b5c', name: '无门槛5元', valueFen: 500, minSpendFen: 0, expiresAt: '2027-01-05T04:00:00.000Z' },
  ],
  shippingCardUntil: '2027-01-04T02:00:00.000Z',
};
const redemptions: WalletRedemption[] = [
  { id: '2d8e5b3a-4c6f-4d7a-8b9c-1e2f3a4b5c6d', itemId: '3e9f6c4b-5d7a-4e8b-9c0d-2f3a4b5c6d7e', name: '包邮月卡', kind: 'shipping_card', pointsSpent: 200, status: 'fulfilled', shipping: null, createdAt: '2026-12-04T02:00:00.000Z' },
  { id: '4f0a7d5c-6e8b-4f9c-8d1e-3a4b5c6d7e8f', itemId: '5a1b8e6d-7f9c-4a0d-9e2f-4b5c6d7e8f9a', name: '帆布袋', kind: 'gift', pointsSpent: 800, status: 'shipped', shipping: { company: '顺丰速运', trackingNo: 'SF1234567890' }, createdAt: '2026-12-01T08:30:00.000Z' },
];

let fake: FakeWx;
let failWallet: boolean;
beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
  failWallet = false;
  fake.setHandler(
    routes({
      'GET /api/mp/wallet': () => (failWallet ? { status: 503, body: { code: 'unavailable', message: 'Service unavailable' } } : { status: 200, body: wallet }),
      'GET /api/mp/mall/redemptions': () => ({ status: 200, body: redemptions }),
    }),
  );
});

const texts = (page: ReturnType<typeof mount>, selector: string) => page.querySelectorAll(selector).map((n) => n.dom?.textContent?.replace(/\s+/g, ' ').trim());

describe('我的券', () => {
  it('lists the unused coupons, the running 包邮卡 and the redemptions', async () => {
    const page = mount(pageId);
    await page.instance.onLoad();
    await settle();
    expect(texts(page, '.coupon')).toEqual(['¥15.00满¥100.00可用满100减152026-12-31 到期', '¥5.00无门槛无门槛5元2027-01-05 到期']);
    expect(texts(page, '.shipping-card')).toEqual(['有效期至 2027-01-04，下单自动包邮']);
    expect(texts(page, '.redemption')).toEqual(['包邮月卡包邮卡 · 2026-12-04 10:00-200 积分已到账', '帆布袋实物礼品 · 2026-12-01 16:30顺丰速运 SF1234567890-800 积分已发货']);
    expect(page.querySelector('.empty')).toBeUndefined();
    page.querySelector('.coupon')?.dispatchEvent('tap');
    await settle();
    expect(fake.navigations).toEqual(['/pages/store/index']);
  });

  it('says so when there is nothing, and leads to the points mall', async () => {
    fake.setHandler(routes({ 'GET /api/mp/wallet': () => ({ status: 200, body: { coupons: [], shippingCardUntil: null } }), 'GET /api/mp/mall/redemptions': () => ({ status: 200, body: [] }) }));
    const page = mount(pageId);
    await page.instance.onLoad();
    await settle();
    expect(texts(page, '.empty-text')).toEqual(['还没有可用的券']);
    page.querySelector('.go-mall')?.dispatchEvent('tap');
    await settle();
    expect(fake.navigations).toEqual(['/packages/mall/index']);
  });

  it('shows the error with a retry instead of loading for good', async () => {
    failWallet = true;
    const page = mount(pageId);
    await page.instance.onLoad();
    await settle();
    expect(page.querySelector('.loading')).toBeUndefined();
    expect(texts(page, '.error-text')).toEqual(['服务暂时不可用，请稍后再试']);
    failWallet = false;
    page.querySelector('.retry')?.dispatchEvent('tap');
    await settle();
    expect(page.querySelector('.error')).toBeUndefined();
    expect(texts(page, '.coupon')).toHaveLength(2);
  });
});
