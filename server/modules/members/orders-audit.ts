import { systemCtx, type Db } from '../../infra/db';

/**
 * Orders whose sales channel is missing. The reference is not checked row by row (a bulk import inserts millions);
 * channels are permanent instead, and this check, run by `npm run ledger:audit`, finds any order written wrong.
 */
export async function ordersWithoutChannel(db: Db, limit = 100): Promise<{ count: number; sample: Array<{ id: string; orderNo: string }> }> {
  const rows = (await db.rows(systemCtx, `SELECT o.id, o.order_no, count(*) OVER () AS total FROM sales_order o
      WHERE NOT EXISTS (SELECT 1 FROM sales_channel c WHERE c.id = o.channel_id) ORDER BY o.id LIMIT $1`,
    [limit],
  )) as Array<{ id: string; order_no: string; total: string }>;
  return { count: rows.length ? Number(rows[0]!.total) : 0, sample: rows.map((r) => ({ id: r.id, orderNo: r.order_no })) };
}
