import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a million-order import costs the database, row by row, made smaller.
 *
 * - The foreign key from sales_order to sales_channel ran one lookup (and a row lock on the channel) per inserted
 *   order: a third of a bulk load's time. Channels are permanent instead (no delete, no new id), so a reference that
 *   was valid when written stays valid; writers take the id from the table in the same transaction, and
 *   `npm run ledger:audit` reports any order whose channel is missing.
 * - Unknown report columns: an order keeps their values as a JSON array, and the import keeps their names once
 *   (`taobao_import.extra_columns`), instead of repeating some thirty Chinese column names in every order: a third of
 *   the row, and most of its parsing. `sales_order_extra()` gives the named object back; orders written before keep
 *   their object.
 * - `source_hash`: a digest of the report row an order was last written from, so that a re-exported row that is
 *   the same is passed over without being staged and compared column by column.
 */
export class OrderBulkLoad1795500300000 implements MigrationInterface {
  name = 'OrderBulkLoad1795500300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sales_order DROP CONSTRAINT sales_order_channel_id_fkey');
    await q.query(`
      CREATE FUNCTION sales_channel_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'sales channels are permanent: orders refer to them' USING ERRCODE = 'restrict_violation';
      END $$`);
    await q.query(`CREATE TRIGGER trg_sales_channel_permanent BEFORE DELETE OR UPDATE OF id ON sales_channel
      FOR EACH ROW EXECUTE FUNCTION sales_channel_permanent()`);
    await q.query('ALTER TABLE taobao_import ADD COLUMN extra_columns text[]');
    await q.query('ALTER TABLE sales_order ADD COLUMN source_hash text');
    await q.query(`
      CREATE FUNCTION sales_order_extra(extra jsonb, import_id uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN jsonb_typeof(extra) = 'array' THEN coalesce((
          SELECT jsonb_object_agg(c.name, v.value)
            FROM taobao_import i
           CROSS JOIN LATERAL unnest(i.extra_columns) WITH ORDINALITY AS c (name, n)
            JOIN LATERAL jsonb_array_elements(extra) WITH ORDINALITY AS v (value, n) ON v.n = c.n
           WHERE i.id = import_id AND v.value <> 'null'::jsonb), '{}'::jsonb)
        ELSE extra END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE sales_order SET extra = sales_order_extra(extra, import_id) WHERE jsonb_typeof(extra) = 'array'`);
    await q.query('DROP FUNCTION sales_order_extra(jsonb, uuid)');
    await q.query('ALTER TABLE sales_order DROP COLUMN source_hash');
    await q.query('ALTER TABLE taobao_import DROP COLUMN extra_columns');
    await q.query('DROP TRIGGER trg_sales_channel_permanent ON sales_channel');
    await q.query('DROP FUNCTION sales_channel_permanent()');
    await q.query('ALTER TABLE sales_order ADD CONSTRAINT sales_order_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES sales_channel (id)');
  }
}
