/** Rank of an order state: an older export (lower rank) never moves an order back. Closed is final. */
const RANK = (col: string) => `CASE ${col} WHEN 'pending' THEN 0 WHEN 'paid' THEN 1 WHEN 'shipped' THEN 2 WHEN 'completed' THEN 3 ELSE 4 END`;

/**
 * Orders repeated in the file: only the last row of each counts (order numbers are unique across Taobao and
 * Tmall). Few or none, so kept in a small table that both merge statements read. Run inside the merge transaction.
 */
export const STAGE_DUPLICATES_SQL = (stage: string, dup: string) => `
CREATE TEMP TABLE ${dup} ON COMMIT DROP AS
SELECT order_no, max(line) AS line, count(*) - 1 AS repeats FROM ${stage} GROUP BY order_no HAVING count(*) > 1`;

/**
 * Staged orders with their channel, their buyer key, and the member their buyer or phone is already bound to,
 * narrowed by `which` (a condition on the staged row `s`). $1 kind, $2 default store.
 */
const SOURCE = (stage: string, which: string) => `
SELECT c.id AS channel_id, s.*, md5(s.buyer_key) AS buyer_hash, coalesce(tb.member_id, ph.member_id) AS bound_member
  FROM ${stage} s
  JOIN sales_channel c ON c.kind = $1 AND c.name = coalesce(nullif(s.store_name, ''), $2)
  LEFT JOIN member_identity tb ON tb.kind = 'taobao_buyer' AND tb.value = md5(s.buyer_key)
  LEFT JOIN member_identity ph ON ph.kind = 'phone' AND ph.value = s.phone_hash
 WHERE ${which}`;

/** The last row of each order in the whole file. */
const LAST_IN_FILE = (dup: string) => `NOT EXISTS (SELECT 1 FROM ${dup} d WHERE d.order_no = s.order_no AND d.line > s.line)`;

const ORDER_COLUMNS = `channel_id, order_no, member_id, buyer_key, buyer_nick, state, status_text, total_fen, paid_fen, postage_fen,
         refund_fen, ordered_at, paid_at, item_title, item_count, close_reason, buyer_message, receiver_name, receiver_address,
         receiver_phone, phone_last4, phone_hash, extra`;
const SOURCE_COLUMNS = `s.channel_id, s.order_no, s.bound_member, s.buyer_hash, s.buyer_nick, s.state, s.status_text, s.total_fen,
         s.paid_fen, s.postage_fen, s.refund_fen, s.ordered_at, s.paid_at, s.item_title, s.item_count, s.close_reason,
         s.buyer_message, s.receiver_name, s.receiver_address, s.receiver_phone, s.phone_last4, s.phone_hash, s.extra`;

/**
 * New orders of one segment of the file (the last row of each order within it), inserted while later segments are
 * still being read: a plain insert of those not there yet, no conflict arbitration per row; merges are serialised
 * by an advisory lock. The lines whose order is already there are noted in `found`, so that only those are looked
 * at again once the whole file is staged. $1 kind, $2 default store, $3 import.
 */
export const INSERT_NEW_ORDERS_SQL = (segment: string, found: string) => `
WITH src AS MATERIALIZED (
  SELECT s.*, EXISTS (SELECT 1 FROM sales_order o WHERE o.channel_id = s.channel_id AND o.order_no = s.order_no) AS there
    FROM (${SOURCE(segment, `NOT EXISTS (SELECT 1 FROM ${segment} l WHERE l.order_no = s.order_no AND l.line > s.line)`)}) s),
ins AS (
  INSERT INTO sales_order (${ORDER_COLUMNS}, import_id)
  SELECT ${SOURCE_COLUMNS}, $3::uuid FROM src s WHERE NOT s.there
  RETURNING member_id),
noted AS (
  INSERT INTO ${found} (line) SELECT line FROM src WHERE there)
SELECT count(*) AS n, array_agg(DISTINCT member_id) FILTER (WHERE member_id IS NOT NULL) AS members FROM ins`;

/**
 * Orders this import inserted and met again later in the file: the file's last row wins, as if it had been the only
 * one (they were new, so no older state holds them back). $1 kind, $2 default store, $3 import.
 */
export const FIX_REPEATED_NEW_ORDERS_SQL = (stage: string, dup: string) => `
WITH fix AS (
  UPDATE sales_order o SET (${ORDER_COLUMNS}, updated_at) = (${SOURCE_COLUMNS}, now())
    FROM (${SOURCE(stage, `EXISTS (SELECT 1 FROM ${dup} d WHERE d.order_no = s.order_no AND d.line = s.line)`)}) s
   WHERE o.channel_id = s.channel_id AND o.order_no = s.order_no AND o.import_id = $3::uuid
     AND (${ORDER_COLUMNS.replace(/\w+/g, 'o.$&')}) IS DISTINCT FROM (${SOURCE_COLUMNS})
  RETURNING o.member_id)
SELECT array_agg(DISTINCT member_id) FILTER (WHERE member_id IS NOT NULL) AS members FROM fix`;

/**
 * Orders that were there before this import (not those it inserted): changed ones are updated (never backwards);
 * identical ones are left alone; orders of bound buyers join their member. Orders erased under the
 * personal-information law keep their anonymised fields. $1 kind, $2 default store, $3 import.
 */
export const UPDATE_ORDERS_SQL = (stage: string, dup: string, found: string) => `
WITH upd AS (
  UPDATE sales_order o SET
         state = s.state, status_text = s.status_text, total_fen = s.total_fen, paid_fen = s.paid_fen,
         postage_fen = s.postage_fen, refund_fen = s.refund_fen,
         ordered_at = coalesce(s.ordered_at, o.ordered_at), paid_at = coalesce(s.paid_at, o.paid_at),
         item_title = s.item_title, item_count = s.item_count, close_reason = s.close_reason,
         member_id = coalesce(o.member_id, CASE WHEN o.erased_at IS NULL THEN s.bound_member END),
         buyer_key = CASE WHEN o.erased_at IS NULL THEN s.buyer_hash END,
         buyer_nick = CASE WHEN o.erased_at IS NULL THEN s.buyer_nick END,
         buyer_message = CASE WHEN o.erased_at IS NULL THEN s.buyer_message END,
         receiver_name = CASE WHEN o.erased_at IS NULL THEN s.receiver_name END,
         receiver_address = CASE WHEN o.erased_at IS NULL THEN s.receiver_address END,
         receiver_phone = CASE WHEN o.erased_at IS NULL THEN s.receiver_phone END,
         phone_last4 = CASE WHEN o.erased_at IS NULL THEN s.phone_last4 END,
         phone_hash = CASE WHEN o.erased_at IS NULL THEN s.phone_hash END,
         extra = CASE WHEN o.erased_at IS NULL THEN s.extra ELSE o.extra END,
         import_id = $3::uuid, updated_at = now()
    FROM (${SOURCE(stage, `${LAST_IN_FILE(dup)} AND s.line IN (SELECT line FROM ${found})`)}) s
   WHERE o.channel_id = s.channel_id AND o.order_no = s.order_no AND o.import_id IS DISTINCT FROM $3::uuid
     AND ${RANK('s.state')} >= ${RANK('o.state')}
     AND ((o.state, o.status_text, o.total_fen, o.paid_fen, o.postage_fen, o.refund_fen, o.ordered_at, o.paid_at,
           o.item_title, o.item_count, o.close_reason)
          IS DISTINCT FROM
          (s.state, s.status_text, s.total_fen, s.paid_fen, s.postage_fen, s.refund_fen,
           coalesce(s.ordered_at, o.ordered_at), coalesce(s.paid_at, o.paid_at), s.item_title, s.item_count, s.close_reason)
       OR (o.erased_at IS NULL AND (o.buyer_key, o.buyer_nick, o.buyer_message, o.receiver_name, o.receiver_address,
           o.receiver_phone, o.phone_last4, o.phone_hash, o.extra)
          IS DISTINCT FROM
          (s.buyer_hash, s.buyer_nick, s.buyer_message, s.receiver_name, s.receiver_address,
           s.receiver_phone, s.phone_last4, s.phone_hash, s.extra))
       OR (o.member_id IS NULL AND o.erased_at IS NULL AND s.bound_member IS NOT NULL))
  RETURNING o.member_id)
SELECT count(*) AS n, array_agg(DISTINCT member_id) FILTER (WHERE member_id IS NOT NULL) AS members FROM upd`;

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
