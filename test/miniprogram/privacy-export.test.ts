import { fieldLabel, readableExport, unlabelledKeys } from '../../miniprogram/src/models/privacy-export.model';

/**
 * The data export as the privacy page shows it. test/members/privacy-registry.test.ts holds the labels against a
 * real export with data in every module; this file checks how values read.
 */
describe('readable data export', () => {
  const data = {
    exportedAt: '2026-12-04T02:05:00.000Z',
    member: { id: 'm-1', nickname: '小满', gender: 'female', birthday: '1995-03-08', tags: ['茶', '礼盒'], notes: null },
    orders: [{ order_no: '4036455525271593001', total_fen: '20000', channel_kind: 'tmall', report_columns: { 店铺Id: '12345678' } }],
    store: {
      orders: [{ order_no: '2612041234567890', status: 'shipped', payable_fen: 8900, address: { name: '林小满', isDefault: true }, items: [{ title: '龙井', quantity: 2 }] }],
      addresses: [{ name: '林小满', is_default: false }],
      cart: [],
    },
    points: { balance: 1350, transactions: [{ kind: 'earn', amount: 5, reason: '每日签到', createdAt: '2026-12-03T16:30:00.000Z', replayed: false }] },
    newPart: { someField: 1 },
  };
  const text = readableExport(data);
  const lines = text.split('\n');

  it('names sections and fields in Chinese, by where they are', () => {
    expect(lines[0]).toBe('导出时间：2026-12-04 10:05');
    expect(lines).toContain('【会员资料】');
    expect(lines).toContain('淘宝 / 天猫订单（1 条）');
    expect(lines).toContain('  商城订单（1 条）');
    // The same field name, by its place: the receiver of a shop order, the name of an address.
    expect(lines).toContain('        收货人：林小满');
    expect(lines).toContain('      收货人：林小满');
    expect(fieldLabel('name', 'store.cart.name')).toBe('名称');
  });

  it('writes amounts in yuan, times on the Shanghai clock, codes and yes/no in words, lists with 、', () => {
    expect(lines).toContain('    订单金额：¥200.00');
    expect(lines).toContain('      应付金额：¥89.00');
    expect(lines).toContain('      状态：已发货');
    expect(lines).toContain('    渠道类型：天猫');
    expect(lines).toContain('  性别：女');
    expect(lines).toContain('  生日：1995-03-08');
    expect(lines).toContain('  标签：茶、礼盒');
    expect(lines).toContain('  备注：—');
    expect(lines).toContain('        默认地址：是');
    expect(lines).toContain('      默认地址：否');
    expect(lines).toContain('      类型：获得');
    expect(lines).toContain('      时间：2026-12-04 00:30');
    expect(lines).toContain('      重复请求：否');
    expect(lines).toContain('  购物车：—');
    // The Taobao report's own column names are Chinese already.
    expect(lines).toContain('      店铺Id：12345678');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('keeps a part it has no label for under its own name, and says which keys lack one', () => {
    expect(lines).toContain('【newPart】');
    expect(lines).toContain('  someField：1');
    expect(unlabelledKeys(data)).toEqual(['newPart', 'someField']);
  });
});
