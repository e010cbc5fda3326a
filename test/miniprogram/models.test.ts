import { formatFen } from '../../miniprogram/src/models/money';
import { toMemberCardView } from '../../miniprogram/src/models/member.model';
import { toCheckInView, checkInRewardText } from '../../miniprogram/src/models/check-in.model';
import { checkoutLinesFromCart, checkoutLinesFromSku, checkoutSummary, couponChoices } from '../../miniprogram/src/models/checkout.model';
import { toOrderView } from '../../miniprogram/src/models/order.model';
import { toCartView, toMallItemView, toProductCardView, toCartLineView } from '../../miniprogram/src/models/product.model';
import { toPointsEntryView } from '../../miniprogram/src/models/points.model';
import { addressLine, defaultAddress, validateAddress } from '../../miniprogram/src/models/address.model';
import { validateBinding, bindingResultText } from '../../miniprogram/src/models/binding.model';
import { shanghaiDate, shiftMonth } from '../../miniprogram/src/utils/shanghai-time';
import type { Address, CheckInMonth, CheckoutQuote, MallItem, Order } from '../../miniprogram/src/models/api-types';
import { sampleMember } from './helpers/fake-wx';

describe('formatFen', () => {
  it.each([
    [0, '¥0.00'],
    [1, '¥0.01'],
    [10, '¥0.10'],
    [199, '¥1.99'],
    [123456789, '¥1,234,567.89'],
    [-2500, '-¥25.00'],
  ])('%i fen → %s', (fen, text) => {
    expect(formatFen(fen)).toBe(text);
  });

  it('omits the symbol on request and refuses fractions of a fen', () => {
    expect(formatFen(9900, { symbol: false })).toBe('99.00');
    expect(() => formatFen(1.5)).toThrow(RangeError);
    expect(() => formatFen(Number.NaN)).toThrow(RangeError);
  });
});

describe('Shanghai calendar', () => {
  it('puts 16:30 UTC on the next Shanghai day', () => {
    expect(shanghaiDate('2026-11-22T16:30:00Z')).toBe('2026-11-23');
    expect(shanghaiDate('2026-11-22T15:59:59Z')).toBe('2026-11-22');
  });

  it('moves across year ends', () => {
    expect(shiftMonth('2026-01', -1)).toBe('2025-12');
    expect(shiftMonth('2026-12', 1)).toBe('2027-01');
  });
});

describe('member card model', () => {
  it('shows tier perks, expiring points on the Shanghai date and the masked buyer', () => {
    const view = toMemberCardView(sampleMember);
    expect(view.tierName).toBe('金卡会员');
    expect(view.perks).toEqual(['会员价 9.5 折', '全场包邮', '2 倍积分', '生日礼']);
    expect(view.expiringText).toBe('200 积分将于 2026-12-31 过期');
    expect(view.buyerText).toBe('已绑定 天猫旗舰店 买家 t**3（4 笔订单）');
    expect(view.bound).toBe(true);
  });

  it('invites binding when no Taobao buyer is linked', () => {
    const view = toMemberCardView({ ...sampleMember, nickname: null, taobaoBuyer: null, expiringPoints: null });
    expect(view.nickname).toBe('微信会员');
    expect(view.bound).toBe(false);
    expect(view.buyerText).toBe('');
    expect(view.expiringText).toBe('');
  });
});

describe('check-in calendar model', () => {
  const month: CheckInMonth = {
    month: '2026-11',
    today: '2026-11-23',
    todayCheckedIn: false,
    streak: 2,
    makeUpCards: 1,
    days: [
      { date: '2026-11-20', checkedIn: true, madeUp: false },
      { date: '2026-11-21', checkedIn: true, madeUp: true },
      { date: '2026-11-22', checkedIn: true, madeUp: false },
    ],
    rules: { basePoints: 5, day7Bonus: 20, day30Bonus: 100, makeUpCostPoints: 50 },
  };

  it('lays November 2026 out from Monday with a state per day', () => {
    const view = toCheckInView(month);
    // 2026-11-01 is a Sunday: six blanks before it, five weeks and a half → six rows.
    expect(view.weeks).toHaveLength(6);
    expect(view.weeks[0].days.slice(0, 6).every((c) => c.state === 'blank')).toBe(true);
    expect(view.weeks[0].days[6]).toMatchObject({ date: '2026-11-01', day: 1, state: 'missed', canMakeUp: true });
    const cells = view.weeks.flatMap((w) => w.days);
    const byDate = (d: string) => cells.find((c) => c.date === d);
    expect(byDate('2026-11-20')?.state).toBe('checked');
    expect(byDate('2026-11-21')?.state).toBe('made_up');
    expect(byDate('2026-11-23')?.state).toBe('today');
    expect(byDate('2026-11-24')).toMatchObject({ state: 'future', canMakeUp: false });
    expect(cells.filter((c) => c.day !== null)).toHaveLength(30);
    expect(view.checkedDays).toBe(3);
    expect(view.monthTitle).toBe('2026年11月');
    expect(view.rulesText).toContain('签到与积分无需关注公众号');
  });

  it('offers no make-up without a card', () => {
    const view = toCheckInView({ ...month, makeUpCards: 0 });
    expect(view.weeks.flatMap((w) => w.days).some((c) => c.canMakeUp)).toBe(false);
  });

  it('words the reward', () => {
    expect(checkInRewardText({ date: '2026-11-23', streak: 7, reward: { points: 25, couponName: '满50减5' }, pointsBalance: 100 }))
      .toBe('签到成功，已连续 7 天：+25 积分，获得「满50减5」');
  });
});

describe('checkout model', () => {
  const quote: CheckoutQuote = {
    items: [], goodsFen: 21300, memberGoodsFen: 19300, memberDiscountFen: 2000, couponId: null, couponFen: 0, discountFen: 2000,
    shippingFen: 0, freeShipping: 'tier', freeShippingOverFen: 9900, pointsBalance: 1280, maxPoints: 1280, pointsToUse: 1280,
    pointsDiscountFen: 1280, payableFen: 18020,
  };

  it('words the server quote without recomputing it', () => {
    expect(checkoutSummary(quote)).toEqual({
      payableFen: 18020, pointsToUse: 1280, couponId: null, maxPoints: 1280, goodsText: '¥213.00', memberDiscountText: '-¥20.00', couponText: '',
      pointsDiscountText: '-¥12.80', shippingText: '包邮（会员权益）', freeShippingHint: '', payableText: '¥180.20', pointsHint: '可用 1280 积分抵 ¥12.80',
    });
  });

  it('shows no zero discounts, the shipping fee and what is missing to ship free', () => {
    const s = checkoutSummary({ ...quote, goodsFen: 2900, memberGoodsFen: 2900, memberDiscountFen: 0, discountFen: 0, freeShipping: null, shippingFen: 1000,
      pointsBalance: 0, maxPoints: 0, pointsToUse: 0, pointsDiscountFen: 0, payableFen: 3900 });
    expect(s).toMatchObject({ memberDiscountText: '', pointsDiscountText: '', couponText: '', shippingText: '¥10.00', freeShippingHint: '再买 ¥70.00 包邮',
      payableText: '¥39.00', pointsHint: '共 0 积分，本单不可抵扣' });
    expect(checkoutSummary({ ...quote, freeShipping: 'shipping_card' }).shippingText).toBe('包邮（包邮卡）');
    expect(checkoutSummary({ ...quote, freeShipping: 'threshold' }).shippingText).toBe('包邮');
  });

  it('lists the coupons that the goods reach first', () => {
    const coupons = [
      { id: 'c1', name: '满200减30', valueFen: 3000, minSpendFen: 20000, expiresAt: '2026-12-31T15:59:59.000Z' },
      { id: 'c2', name: '无门槛5元', valueFen: 500, minSpendFen: 0, expiresAt: '2026-12-10T04:00:00.000Z' },
    ];
    expect(couponChoices(coupons, 19300)).toEqual([
      { id: 'c2', name: '无门槛5元', ruleText: '无门槛减¥5.00', expiresText: '2026-12-10 到期', usable: true },
      { id: 'c1', name: '满200减30', ruleText: '满¥200.00减¥30.00', expiresText: '2026-12-31 到期', usable: false },
    ]);
  });

  it('builds lines from the cart or from one SKU bought now', () => {
    const cart = { items: [{ skuId: 's1', productId: 'p1', title: '围巾', skuName: '燕麦色', imageUrl: null, priceFen: 9900, memberPriceFen: 8900, quantity: 2, stock: 1 }] };
    expect(checkoutLinesFromCart(cart)).toEqual([{ skuId: 's1', title: '围巾', skuName: '燕麦色', quantity: 2, priceFen: 9900, memberPriceFen: 8900, unitText: '¥89.00' }]);
    expect(toCartView(cart)).toMatchObject({ count: 2, totalText: '¥178.00', totalLabel: '合计（会员价）', blocked: true });
    expect(toCartView({ items: [{ ...cart.items[0]!, memberPriceFen: 9900 }] }).totalLabel).toBe('合计');
    const product = { id: 'p1', title: '围巾', description: '', images: [], skus: [{ id: 's1', name: '燕麦色', priceFen: 9900, memberPriceFen: 8900, stock: 5 }] };
    expect(checkoutLinesFromSku(product, 's1', 3)[0]).toMatchObject({ quantity: 3, unitText: '¥89.00' });
    expect(checkoutLinesFromSku(product, 's1', Number.NaN)[0].quantity).toBe(1);
    expect(checkoutLinesFromSku(product, 'gone', 1)).toEqual([]);
  });
});

describe('order, product, mall, points and address models', () => {
  const address: Address = { id: 'a1', name: '林雪', phone: '138****6392', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 88 号', isDefault: true };
  const order: Order = {
    id: '7001', orderNo: 'SB202611230001', status: 'pending_payment',
    items: [{ skuId: 's1', title: '羊毛围巾', skuName: '燕麦色', quantity: 2, unitPriceFen: 8900 }],
    goodsFen: 19800, discountFen: 2000, pointsUsed: 300, pointsDiscountFen: 300, shippingFen: 0, payableFen: 17500,
    address, createdAt: '2026-11-23T02:05:00Z', paidAt: null, expiresAt: '2026-11-23T02:35:00Z', shipping: null,
  };

  it('maps an order to its view', () => {
    const view = toOrderView(order);
    expect(view).toMatchObject({
      statusText: '待付款', itemCount: 2, payableText: '¥175.00', discountText: '-¥20.00',
      pointsText: '300 积分抵 -¥3.00', shippingText: '包邮', addressText: '上海市 徐汇区 漕溪北路 88 号',
      receiverText: '林雪 138****6392', createdText: '2026-11-23 10:05', canPay: true, canCancel: true,
    });
    expect(toOrderView({ ...order, status: 'shipped', shipping: { company: '顺丰', trackingNo: 'SF123' } }))
      .toMatchObject({ statusText: '已发货', canPay: false, shippingInfo: '顺丰 SF123' });
  });

  it('maps products, cart lines and mall items', () => {
    expect(toProductCardView({ id: 'p1', title: '围巾', imageUrl: null, priceFen: 9900, memberPriceFen: 8900, stock: 0 }))
      .toMatchObject({ priceText: '¥99.00', memberPriceText: '¥89.00', hasMemberPrice: true, soldOut: true });
    expect(toCartLineView({ skuId: 's', productId: 'p', title: 't', skuName: 'n', imageUrl: null, priceFen: 100, memberPriceFen: 90, quantity: 3, stock: 2 }))
      .toMatchObject({ lineText: '¥2.70', overStock: true });
    const item: MallItem = { id: 'm1', kind: 'shipping_card', name: '包邮卡（月卡）', description: '', imageUrl: null, pointsCost: 500, stock: 3, perMemberLimit: 1, redeemedByMe: 0, needsAddress: false };
    expect(toMallItemView(item, 1000)).toMatchObject({ kindText: '包邮卡', blockedReason: '', limitText: '每人限兑 1 次，已兑 0 次' });
    expect(toMallItemView(item, 100).blockedReason).toBe('积分不足');
    expect(toMallItemView({ ...item, redeemedByMe: 1 }, 1000).blockedReason).toBe('已达兑换上限');
    expect(toMallItemView({ ...item, stock: 0 }, 1000).blockedReason).toBe('已兑完');
  });

  it('maps points entries with Chinese reasons', () => {
    expect(toPointsEntryView({ id: '1', delta: 5, reason: '每日签到', code: 'check_in', label: '每日签到', orderNo: null, createdAt: '2026-11-22T23:00:00.000Z' }))
      .toEqual({ id: '1', reasonText: '每日签到', orderText: '', deltaText: '+5', positive: true, timeText: '2026-11-23 07:00' });
    expect(toPointsEntryView({ id: '2', delta: 88, reason: 'purchase 4036455525271590004', code: 'taobao_purchase', label: '淘宝订单积分', orderNo: '4036455525271590004', createdAt: '2026-11-22T23:00:00.000Z' }))
      .toMatchObject({ reasonText: '淘宝订单积分', orderText: '订单 4036455525271590004', deltaText: '+88', positive: true });
  });

  it('prints addresses once per municipality and validates forms', () => {
    expect(addressLine({ ...address, province: '浙江省', city: '杭州市' })).toBe('浙江省 杭州市 徐汇区 漕溪北路 88 号');
    expect(defaultAddress([{ ...address, id: 'x', isDefault: false }, address])?.id).toBe('a1');
    expect(defaultAddress([])).toBeNull();
    const input = { name: '林雪', phone: '13812346392', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 88 号', isDefault: false };
    expect(validateAddress(input, true)).toBe('');
    expect(validateAddress({ ...input, phone: '1381234' }, true)).toBe('请填写 11 位手机号');
    expect(validateAddress({ ...input, phone: '' }, false)).toBe('');
    expect(validateAddress({ ...input, district: '' }, true)).toBe('请选择所在地区');
  });

  it('validates a binding and words its result', () => {
    expect(validateBinding('1234567890123456789', '6392')).toBe('');
    expect(validateBinding('12345', '6392')).toMatch(/18–19 位数字/);
    expect(validateBinding('123456789012345678', '63a2')).toBe('请填写收货手机号后四位');
    expect(bindingResultText({ taobaoBuyer: { nickMasked: 't**3', channelName: '天猫旗舰店', ordersCount: 2 }, pointsAwarded: 120 }))
      .toBe('已绑定天猫旗舰店 买家 t**3，获得 120 积分');
  });
});
