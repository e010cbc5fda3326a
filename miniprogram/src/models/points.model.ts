import type { PointsEntry } from './api-types';
import { shanghaiDateTime } from '../utils/shanghai-time';

export interface PointsEntryView {
  id: string;
  reasonText: string;
  deltaText: string;
  positive: boolean;
  timeText: string;
}

// Reason codes the ledger writes; an unknown reason is shown as the server sent it.
const REASONS: Record<string, string> = {
  check_in: '每日签到',
  check_in_bonus: '连续签到奖励',
  make_up: '补签',
  make_up_card: '兑换补签卡',
  binding: '绑定淘宝订单',
  past_spend: '历史消费积分',
  purchase: '购物得积分',
  order_points: '下单抵扣',
  order_refund: '订单退款退回',
  refund_clawback: '退款扣回',
  redemption: '积分商城兑换',
  redemption_refund: '兑换退回',
  review_reward: '评价有礼',
  expiry: '积分过期',
  adjustment: '客服调整',
};

export function toPointsEntryView(entry: PointsEntry): PointsEntryView {
  return {
    id: entry.id,
    reasonText: REASONS[entry.reason] ?? entry.reason,
    deltaText: entry.delta > 0 ? `+${entry.delta}` : String(entry.delta),
    positive: entry.delta > 0,
    timeText: shanghaiDateTime(entry.createdAt),
  };
}
