import type { PointsEntry } from './api-types';
import { shanghaiDateTime } from '../utils/shanghai-time';

export interface PointsEntryView {
  id: string;
  reasonText: string;
  // "订单 2612041234567890" when the entry belongs to an order.
  orderText: string;
  deltaText: string;
  positive: boolean;
  timeText: string;
}

// The server labels every entry in Chinese (its codes are for logic, never shown).
export function toPointsEntryView(entry: PointsEntry): PointsEntryView {
  return {
    id: entry.id,
    reasonText: entry.label,
    orderText: entry.orderNo ? `订单 ${entry.orderNo}` : '',
    deltaText: entry.delta > 0 ? `+${entry.delta}` : String(entry.delta),
    positive: entry.delta > 0,
    timeText: shanghaiDateTime(entry.createdAt),
  };
}
