import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A short numeric member code a cashier can type or scan: 9 digits and a Luhn check digit (10 in all), so a mistyped
 * digit or two swapped neighbours are caught. The 9 digits are the member's place in a sequence times 3^18 modulo
 * 10^9: a bijection on 0 … 10^9 − 1, so codes are unique by construction (no retry on a clash) and consecutive members
 * do not get consecutive codes. It identifies a member; it is no secret and grants nothing by itself.
 */
export class MemberCode1795900000000 implements MigrationInterface {
  name = 'MemberCode1795900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE member_code_seq MINVALUE 1 MAXVALUE 999999999 NO CYCLE`);
    await q.query(`
      CREATE FUNCTION member_code(n bigint) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
        WITH b AS (SELECT lpad(((n * 387420489) % 1000000000)::text, 9, '0') AS d)
        SELECT b.d || ((10 - (
          SELECT sum(CASE WHEN i % 2 = 1 THEN (v * 2) / 10 + (v * 2) % 10 ELSE v END)
            FROM (SELECT i, substr(reverse(b.d), i, 1)::int AS v FROM generate_series(1, 9) AS i) AS digits
        ) % 10) % 10)::text
        FROM b
      $$`);
    await q.query('ALTER TABLE member ADD COLUMN code text');
    await q.query(`
      UPDATE member m SET code = member_code(s.n)
        FROM (SELECT id, nextval('member_code_seq') AS n FROM (SELECT id FROM member ORDER BY created_at, id) AS o) AS s
       WHERE s.id = m.id`);
    await q.query(`ALTER TABLE member ALTER COLUMN code SET DEFAULT member_code(nextval('member_code_seq'))`);
    await q.query('ALTER TABLE member ALTER COLUMN code SET NOT NULL');
    await q.query('CREATE UNIQUE INDEX member_code_key ON member (code)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE member DROP COLUMN code');
    await q.query('DROP FUNCTION member_code(bigint)');
    await q.query('DROP SEQUENCE member_code_seq');
  }
}
