import type { OrderStatus } from './store.entity';

/** The order's refund state: null in the table is 'none'. */
export type OrderRefundState = 'none' | 'processing' | 'succeeded' | 'failed';

interface Transition {
  readonly from: { readonly status: readonly OrderStatus[]; readonly refund: readonly OrderRefundState[] };
  readonly to: { readonly status?: OrderStatus; readonly refund?: Exclude<OrderRefundState, 'none'> };
}

/** No refund in progress: none yet, the last one failed, or the last (partial) one went through. */
const SETTLED: readonly OrderRefundState[] = ['none', 'failed', 'succeeded'];
const PAID: readonly OrderStatus[] = ['paid', 'shipped', 'completed'];

/**
 * The store order's whole lifecycle, payment and refund states together, in one table: every conditional UPDATE
 * of store_order's status or refund_status takes its SET and WHERE from here (`transition`), so a state change the
 * table does not list cannot happen, whatever runs at once.
 */
export const ORDER_LIFECYCLE = {
  pay: { from: { status: ['pending_payment'], refund: ['none'] }, to: { status: 'paid' } },
  cancel: { from: { status: ['pending_payment'], refund: ['none'] }, to: { status: 'cancelled' } },
  /** Paid after it was cancelled (the close did not reach WeChat): the money goes back in full. */
  refundLatePayment: { from: { status: ['cancelled'], refund: ['none'] }, to: { refund: 'processing' } },
  ship: { from: { status: ['paid'], refund: SETTLED }, to: { status: 'shipped' } },
  complete: { from: { status: ['shipped'], refund: SETTLED }, to: { status: 'completed' } },
  startRefund: { from: { status: PAID, refund: SETTLED }, to: { refund: 'processing' } },
  /** The refund took the last of the money: the order is refunded (a cancelled one stays cancelled). */
  refundedInFull: { from: { status: [...PAID, 'cancelled'], refund: ['processing'] }, to: { refund: 'succeeded' } },
  refundedInPart: { from: { status: PAID, refund: ['processing'] }, to: { refund: 'succeeded' } },
  refundFailed: { from: { status: [...PAID, 'cancelled'], refund: ['processing'] }, to: { refund: 'failed' } },
} as const satisfies Record<string, Transition>;

export type OrderTransition = keyof typeof ORDER_LIFECYCLE;

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/**
 * The SET and WHERE of one transition for `UPDATE store_order SET ${set}, … WHERE id = $1 AND ${where}` (the
 * table alias, if any, prefixes the columns). Built from the constants above only: nothing of a request reaches it.
 */
export function transition(name: OrderTransition, alias = ''): { set: string; where: string } {
  const t: Transition = ORDER_LIFECYCLE[name];
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  const set: string[] = [];
  if (t.to.status) set.push(`status = '${t.to.status}'`);
  // A full refund of a cancelled order leaves it cancelled; of a paid one, refunded.
  if (name === 'refundedInFull') set.push(`status = CASE WHEN ${col('status')} = 'cancelled' THEN ${col('status')} ELSE 'refunded' END`);
  if (t.to.refund) set.push(`refund_status = '${t.to.refund}'`);
  const where = `${col('status')} IN (${list(t.from.status)}) AND coalesce(${col('refund_status')}, 'none') IN (${list(t.from.refund)})`;
  return { set: set.join(', '), where };
}

/** Whether the table allows `name` from this state (to answer a clear error before trying). */
export function allowed(name: OrderTransition, state: { status: OrderStatus; refundStatus: string | null }): boolean {
  const t: Transition = ORDER_LIFECYCLE[name];
  return t.from.status.includes(state.status) && t.from.refund.includes((state.refundStatus ?? 'none') as OrderRefundState);
}
