import type { StageColumn } from './stage-writer';

/** Rank of an order state: an older export (lower rank) never moves an order back. Closed is final. */
const RANK = (col: string) => `CASE ${col} WHEN 'pending' THEN 0 WHEN 'paid' THEN 1 WHEN 'shipped' THEN 2 WHEN 'completed' THEN 3 ELSE 4 END`;

/** What an imported order writes (its member is joined afterwards, from the buyer's identities), in COPY's order. */
export const ORDER_ROW: StageColumn[] = [
  { name: 'channel_id', type: 'uuid' },
  { name: 'order_no', type: 'text' },
  { name: 'buyer_key', type: 'text' },
  { name: 'buyer_nick', type: 'text' },
  { name: 'state', type: 'text' },
  { name: 'status_text', type: 'text' },
  { name: 'total_fen', type: 'bigint' },
  { name: 'paid_fen', type: 'bigint' },
  { name: 'postage_fen', type: 'bigint' },
  { name: 'refund_fen', type: 'bigint' },
  { name: 'ordered_at', type: 'timestamptz' },
  { name: 'paid_at', type: 'timestamptz' },
  { name: 'item_title', type: 'text' },
  { name: 'item_count', type: 'int' },
  { name: 'close_reason', type: 'text' },
  { name: 'buyer_message', type: 'text' },
  { name: 'receiver_name', type: 'text' },
  { name: 'receiver_address', type: 'text' },
  { name: 'receiver_phone', type: 'text' },
  { name: 'phone_last4', type: 'text' },
  { name: 'phone_hash', type: 'text' },
  { name: 'extra', type: 'jsonb' },
];
export const ORDER_COLUMNS = ORDER_ROW.map((c) => c.name).join(', ');
const STAGED_COLUMNS = ORDER_COLUMNS.replace(/\w+/g, 's.$&');

/**
 * A segment's rows whose order is there already, by index into its arrays: whether this import itself inserted it
 * (a repeat of an order further up the file), and whether the order was last written from the same row.
 * $1 order numbers, $2 their channels as indexes into $3, $4 import, $5 the rows' digests.
 */
export const EXISTING_ORDERS_SQL = `
SELECT s.i::int AS i, o.import_id IS NOT DISTINCT FROM $4::uuid AS fresh, o.source_hash IS NOT DISTINCT FROM s.hash AS same
  FROM unnest($1::text[], $2::int[], $5::text[]) WITH ORDINALITY AS s (order_no, channel, hash, i)
  JOIN sales_order o ON o.order_no = s.order_no AND o.channel_id = ($3::uuid[])[s.channel]`;

/** The store names of a report as channels of its kind, created on first sight. $1 kind, $2 names. */
export const ENSURE_CHANNELS_SQL = `
WITH ins AS (
  INSERT INTO sales_channel (kind, name) SELECT $1, unnest($2::text[]) ON CONFLICT (kind, name) DO NOTHING RETURNING id, name)
SELECT id, name FROM ins UNION ALL SELECT id, name FROM sales_channel WHERE kind = $1 AND name = ANY($2::text[])`;

/**
 * Rows whose order was already there were staged: rows repeating an order this import inserted (`fresh`) are all
 * repeats; the others count once per order. Plus the repeats within one segment, counted while reading.
 */
export const STAGED_REPEATS_SQL = (stage: string) => `
SELECT count(*) FILTER (WHERE fresh) + count(*) FILTER (WHERE NOT fresh)
       - count(DISTINCT (order_no, channel_id)) FILTER (WHERE NOT fresh) AS n
  FROM ${stage}`;

/**
 * The last staged row of each order, of those `fresh` or not, unless that row is the one the order was last written
 * from (`same`: staged with its key only).
 */
const LAST_STAGED = (stage: string, fresh: boolean) => `
SELECT * FROM (SELECT DISTINCT ON (order_no, channel_id) * FROM ${stage} WHERE ${fresh ? '' : 'NOT '}fresh
                ORDER BY order_no, channel_id, line DESC) last
 WHERE NOT same`;

/**
 * Orders this import inserted and met again later in the file: the file's last row wins, as if it had been the only
 * one (they were new, so no older state holds them back). $1 import.
 */
export const FIX_REPEATED_NEW_ORDERS_SQL = (stage: string) => `
WITH fix AS (
  UPDATE sales_order o SET (${ORDER_COLUMNS}, source_hash, updated_at) = (${STAGED_COLUMNS}, s.source_hash, now())
    FROM (${LAST_STAGED(stage, true)}) s
   WHERE o.channel_id = s.channel_id AND o.order_no = s.order_no AND o.import_id = $1::uuid
     AND (${ORDER_COLUMNS.replace(/\w+/g, 'o.$&')}) IS DISTINCT FROM (${STAGED_COLUMNS})
  RETURNING o.member_id)
SELECT array_agg(DISTINCT member_id) FILTER (WHERE member_id IS NOT NULL) AS members FROM fix`;

/**
 * Orders that were there before this import: changed ones are updated (never backwards); identical ones are left
 * alone; orders of bound buyers join their member. Orders erased under the personal-information law keep their
 * anonymised fields. $1 import.
 */
export const UPDATE_ORDERS_SQL = (stage: string) => `
WITH upd AS (
  UPDATE sales_order o SET
         state = s.state, status_text = s.status_text, total_fen = s.total_fen, paid_fen = s.paid_fen,
         postage_fen = s.postage_fen, refund_fen = s.refund_fen,
         ordered_at = coalesce(s.ordered_at, o.ordered_at), paid_at = coalesce(s.paid_at, o.paid_at),
         item_title = s.item_title, item_count = s.item_count, close_reason = s.close_reason,
         member_id = coalesce(o.member_id, CASE WHEN o.erased_at IS NULL THEN s.bound_member END),
         buyer_key = CASE WHEN o.erased_at IS NULL THEN s.buyer_key END,
         buyer_nick = CASE WHEN o.erased_at IS NULL THEN s.buyer_nick END,
         buyer_message = CASE WHEN o.erased_at IS NULL THEN s.buyer_message END,
         receiver_name = CASE WHEN o.erased_at IS NULL THEN s.receiver_name END,
         receiver_address = CASE WHEN o.erased_at IS NULL THEN s.receiver_address END,
         receiver_phone = CASE WHEN o.erased_at IS NULL THEN s.receiver_phone END,
         phone_last4 = CASE WHEN o.erased_at IS NULL THEN s.phone_last4 END,
         phone_hash = CASE WHEN o.erased_at IS NULL THEN s.phone_hash END,
         extra = CASE WHEN o.erased_at IS NULL THEN s.extra ELSE o.extra END,
         import_id = $1::uuid, source_hash = s.source_hash, updated_at = now()
    FROM (SELECT s.*, coalesce(tb.member_id, ph.member_id) AS bound_member
            FROM (${LAST_STAGED(stage, false)}) s
            LEFT JOIN member_identity tb ON tb.kind = 'taobao_buyer' AND tb.value = s.buyer_key
            LEFT JOIN member_identity ph ON ph.kind = 'phone' AND ph.value = s.phone_hash) s
   WHERE o.channel_id = s.channel_id AND o.order_no = s.order_no AND o.import_id IS DISTINCT FROM $1::uuid
     AND ${RANK('s.state')} >= ${RANK('o.state')}
     AND ((o.state, o.status_text, o.total_fen, o.paid_fen, o.postage_fen, o.refund_fen, o.ordered_at, o.paid_at,
           o.item_title, o.item_count, o.close_reason)
          IS DISTINCT FROM
          (s.state, s.status_text, s.total_fen, s.paid_fen, s.postage_fen, s.refund_fen,
           coalesce(s.ordered_at, o.ordered_at), coalesce(s.paid_at, o.paid_at), s.item_title, s.item_count, s.close_reason)
       OR (o.erased_at IS NULL AND (o.buyer_key, o.buyer_nick, o.buyer_message, o.receiver_name, o.receiver_address,
           o.receiver_phone, o.phone_last4, o.phone_hash, o.extra)
          IS DISTINCT FROM
          (s.buyer_key, s.buyer_nick, s.buyer_message, s.receiver_name, s.receiver_address,
           s.receiver_phone, s.phone_last4, s.phone_hash, s.extra))
       OR (o.member_id IS NULL AND o.erased_at IS NULL AND s.bound_member IS NOT NULL))
  RETURNING o.member_id)
SELECT count(*) AS n, array_agg(DISTINCT member_id) FILTER (WHERE member_id IS NOT NULL) AS members FROM upd`;

/**
 * New orders of buyers already bound to a member (by their Taobao buyer, else by their phone) join that member.
 * Driven from the identities, so its cost follows the bound buyers, not the size of the import. $1 import.
 */
export const BIND_NEW_ORDERS_SQL = (kind: 'taobao_buyer' | 'phone') => `
WITH bound AS (
  UPDATE sales_order o SET member_id = i.member_id, updated_at = now()
    FROM member_identity i
   WHERE i.kind = '${kind}' AND o.${kind === 'phone' ? 'phone_hash' : 'buyer_key'} = i.value
     AND o.import_id = $1::uuid AND o.member_id IS NULL AND o.erased_at IS NULL
  RETURNING o.member_id)
SELECT array_agg(DISTINCT member_id) AS members FROM bound`;

/** Line items replace an order's item list as a whole, so importing the item report again changes nothing. */
export const MERGE_ITEMS_SQL = (stage: string) => `
WITH agg AS (
  SELECT order_no, jsonb_agg(jsonb_strip_nulls(jsonb_build_object('title', title, 'priceFen', price_fen, 'quantity', quantity,
           'sku', sku, 'props', props)) || extra ORDER BY line) AS items
    FROM ${stage} GROUP BY order_no),
upd AS (
  UPDATE sales_order o SET items = agg.items, updated_at = now()
    FROM agg, sales_channel c
   WHERE o.order_no = agg.order_no AND c.id = o.channel_id AND c.kind IN ('taobao', 'tmall') AND o.items IS DISTINCT FROM agg.items
  RETURNING o.member_id)
SELECT (SELECT count(*) FROM ${stage} s WHERE EXISTS (
          SELECT 1 FROM sales_order o JOIN sales_channel c ON c.id = o.channel_id
           WHERE o.order_no = s.order_no AND c.kind IN ('taobao', 'tmall'))) AS attached,
       (SELECT array_agg(DISTINCT member_id) FILTER (WHERE member_id IS NOT NULL) FROM upd) AS members`;

/** Item rows whose 订单编号 matches no order (in this import or an earlier one) are reported, not dropped silently. */
export const REJECT_ORPHAN_ITEMS_SQL = (stage: string) => `
WITH orphans AS (
  SELECT s.line FROM ${stage} s
   WHERE NOT EXISTS (SELECT 1 FROM sales_order o JOIN sales_channel c ON c.id = o.channel_id
                      WHERE o.order_no = s.order_no AND c.kind IN ('taobao', 'tmall'))),
ins AS (
  INSERT INTO taobao_import_reject (import_id, file, line, reason)
  SELECT $1, 'items', line, 'no order with this 订单编号 in this or an earlier order report' FROM orphans ORDER BY line LIMIT $2
  RETURNING 1)
SELECT (SELECT count(*) FROM orphans) AS n, (SELECT count(*) FROM ins) AS stored`;
