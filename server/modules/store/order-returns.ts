import type { Ctx, Db } from '../../infra/db';

/**
 * The one undo of what an order holds: its stock goes back to the SKUs, all of it (a cancelled or fully refunded
 * order) or these lines' quantities (a refund by line). Cancellation and refunds both call this.
 */
export async function returnStock(db: Db, tx: Ctx, orderId: string, lines?: ReadonlyArray<{ skuId: string; quantity: number }>): Promise<void> {
  if (!lines) {
    await db.rows(tx, 'UPDATE product_sku s SET stock = s.stock + i.quantity - i.refunded_quantity FROM store_order_item i WHERE i.order_id = $1 AND s.id = i.sku_id', [orderId]);
    return;
  }
  for (const l of [...lines].sort((a, b) => a.skuId.localeCompare(b.skuId))) {
    await db.rows(tx, 'UPDATE product_sku SET stock = stock + $2 WHERE id = $1', [l.skuId, l.quantity]);
  }
}
