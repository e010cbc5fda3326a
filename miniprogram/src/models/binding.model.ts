import type { BindingResult } from './api-types';

// Returns the first problem as a Chinese message, or '' when the form can be sent.
export function validateBinding(orderNo: string, phoneLast4: string): string {
  if (!/^\d{18,19}$/.test(orderNo)) return '淘宝订单号是 18–19 位数字，可在淘宝「我的订单」→ 订单详情中复制';
  if (!/^\d{4}$/.test(phoneLast4)) return '请填写收货手机号后四位';
  return '';
}

export function bindingResultText(result: BindingResult): string {
  const buyer = `${result.taobaoBuyer.channelName} 买家 ${result.taobaoBuyer.nickMasked}`;
  return result.pointsAwarded > 0 ? `已绑定${buyer}，获得 ${result.pointsAwarded} 积分` : `已绑定${buyer}`;
}
