import type { Ctx, Db } from '../../infra/db';
import type { PointsHistoryPage } from './store.ports';

/** A ledger entry as a member reads it: a stable code, its Chinese label and the order it belongs to. */
export interface ReasonLabel {
  code: string;
  label: string;
  /** The order number a person reads (the store's, or Taobao's), when the entry belongs to an order. */
  orderNo: string | null;
}

const STORE_ORDER_KEYS: Record<string, [string, string]> = {
  award: ['store_purchase', '购物奖励'],
  points: ['store_points_used', '下单积分抵扣'],
  'points-return': ['store_cancel_return', '取消订单退回积分'],
  'points-refund': ['store_refund_return', '退款退回积分'],
  'award-clawback': ['store_refund_clawback', '退款扣回购物奖励'],
};

const BY_KIND: Record<string, string> = { earn: '积分奖励', spend: '积分使用', adjust: '积分调整', expire: '积分过期', merge: '账号合并' };

const hasChinese = (s: string) => /[\u4e00-\u9fff]/.test(s);

/** Labels one entry from its idempotency key (who wrote it) and reason; storeOrderNos maps store order ids to their numbers. */
export function labelEntry(entry: { kind: string; key: string; reason: string }, storeOrderNos: Map<string, string>): ReasonLabel {
  const { key, reason } = entry;
  const order = /^order:([^:]+):(.+)$/.exec(key);
  if (order) {
    const [, id, step] = order;
    // A refund by line adds its after-sale: order:<id>:points-refund:<after-sale id>.
    const store = STORE_ORDER_KEYS[step!] ?? STORE_ORDER_KEYS[step!.split(':')[0]!];
    // Store orders are keyed by their uuid; the member ledger's sales orders by their own id.
    if (store) return { code: store[0], label: store[1], orderNo: storeOrderNos.get(id!) ?? null };
    // The member ledger's Taobao orders: `purchase <no>`, `refund on <no>`, `order <no> closed`.
    const no = /^purchase (\S+)$/.exec(reason) ?? /^refund on (\S+)$/.exec(reason) ?? /^order (\S+) closed$/.exec(reason);
    if (step === 'earn') return { code: 'taobao_purchase', label: '淘宝订单积分', orderNo: no?.[1] ?? null };
    if (step!.startsWith('reverse')) {
      return reason.endsWith('closed')
        ? { code: 'taobao_order_closed', label: '淘宝订单关闭扣回', orderNo: no?.[1] ?? null }
        : { code: 'taobao_refund', label: '淘宝订单退款扣回', orderNo: no?.[1] ?? null };
    }
  }
  const prefix = key.split(':')[0]!;
  switch (prefix) {
    case 'check-in':
      return { code: 'check_in', label: hasChinese(reason) ? reason : '每日签到', orderNo: null };
    case 'check-in-make-up':
      return { code: 'check_in_make_up', label: hasChinese(reason) ? reason : '补签', orderNo: null };
    case 'mall':
      return { code: 'mall_redemption', label: hasChinese(reason) ? reason : '积分商城兑换', orderNo: null };
    case 'review-claim':
      return { code: 'review_reward', label: '晒单评价有礼', orderNo: null };
    case 'expire':
      return { code: 'expiry', label: '积分过期', orderNo: null };
    case 'erase':
      return { code: 'erasure', label: '注销清零', orderNo: null };
    case 'admin':
      return { code: 'adjustment', label: '客服调整', orderNo: null };
    case 'merge':
      return { code: 'merge', label: '账号合并', orderNo: null };
  }
  return { code: entry.kind, label: hasChinese(reason) ? reason : (BY_KIND[entry.kind] ?? '积分变动'), orderNo: null };
}

/** The history page with every entry labelled; store order numbers are read in one query. */
export async function labelHistory(db: Db, ctx: Ctx, page: PointsHistoryPage) {
  const ids = [...new Set(page.items.map((i) => /^order:([0-9a-f-]{36}):/.exec(i.key)?.[1]).filter((id): id is string => !!id))];
  const found = ids.length ? await db.rows<{ id: string; order_no: string }>(ctx, 'SELECT id, order_no FROM store_order WHERE id = ANY($1::uuid[])', [ids]) : [];
  const nos = new Map(found.map((o) => [o.id, o.order_no]));
  return {
    items: page.items.map((i) => ({ id: i.id, delta: i.delta, reason: i.reason, ...labelEntry(i, nos), createdAt: i.createdAt.toISOString() })),
    nextCursor: page.nextCursor,
  };
}
