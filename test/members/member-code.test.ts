import { storeKit, type StoreKit } from '../store/store-kit';

/**
 * The short member code on the card: 10 digits a cashier can type, the last a Luhn check digit, unique per member and
 * found again from the console by the code alone.
 */
let k: StoreKit;
beforeAll(async () => {
  k = await storeKit();
});
afterAll(async () => k.t.close());

const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);

/** Luhn, written out here and not taken from the server: true when the last digit checks the others. */
function luhnValid(code: string): boolean {
  let sum = 0;
  [...code].reverse().forEach((c, i) => {
    let d = Number(c);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  });
  return sum % 10 === 0;
}

describe('member code', () => {
  it('is 10 digits with a valid check digit, distinct per member, the one the member row holds', async () => {
    const codes: string[] = [];
    for (const name of ['甲', '乙', '丙']) {
      const m = await k.member(name);
      const me = await k.t.app.inject({ method: 'GET', url: '/api/mp/me', headers: m.headers });
      expect(me.statusCode).toBe(200);
      const code = me.json().memberCode as string;
      expect(code).toMatch(/^\d{10}$/);
      expect(luhnValid(code)).toBe(true);
      expect(code).not.toContain(m.memberId);
      const [row] = await sql('SELECT code FROM member WHERE id = $1', [m.memberId]);
      expect(row.code).toBe(code);
      codes.push(code);
    }
    expect(new Set(codes).size).toBe(3);
    // Consecutive members do not get consecutive codes (the sequence is spread over the code space).
    const bodies = codes.map((c) => Number(c.slice(0, 9)));
    expect(Math.abs(bodies[1]! - bodies[0]!)).toBeGreaterThan(1000);
  });

  it('catches one mistyped digit and two swapped neighbours', () => {
    const code = '1234567897';
    expect(luhnValid(code)).toBe(true);
    expect(luhnValid('1234567807')).toBe(false);
    expect(luhnValid('1234576897')).toBe(false);
  });

  it('is unique by construction across the first 200 000 members and still 10 digits at the last one', async () => {
    const [r] = await sql(
      `SELECT count(DISTINCT c)::int AS distinct_codes, bool_and(c ~ '^[0-9]{10}$') AS all_ten
         FROM (SELECT member_code(n) AS c FROM generate_series(1, 200000) AS n) AS codes`,
    );
    expect(r).toEqual({ distinct_codes: 200000, all_ten: true });
    const [last] = await sql('SELECT member_code(999999999) AS code');
    expect(last.code).toMatch(/^\d{10}$/);
    expect(luhnValid(last.code)).toBe(true);
    // A sample of codes, each checked by the Luhn written here.
    const sample = (await sql('SELECT member_code(n) AS code FROM generate_series(1, 500) AS n')) as Array<{ code: string }>;
    expect(sample.filter((s) => !luhnValid(s.code))).toEqual([]);
  });

  it('finds the member in the console by code; a malformed code is refused, an unknown one finds nobody', async () => {
    const m = await k.member('丁');
    const code = (await k.t.app.inject({ method: 'GET', url: '/api/mp/me', headers: m.headers })).json().memberCode as string;
    const found = await k.t.app.inject({ method: 'GET', url: `/api/admin/members?code=${code}`, headers: k.admin });
    expect(found.statusCode).toBe(200);
    expect(found.json().total).toBe(1);
    expect(found.json().items.map((i: { id: string; memberCode: string }) => [i.id, i.memberCode])).toEqual([[m.memberId, code]]);

    const bad = await k.t.app.inject({ method: 'GET', url: '/api/admin/members?code=12ab', headers: k.admin });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'invalid_request']);
    const other = code.slice(0, 9) + String((Number(code[9]) + 5) % 10);
    const none = await k.t.app.inject({ method: 'GET', url: `/api/admin/members?code=${other}`, headers: k.admin });
    expect([none.statusCode, none.json().total]).toEqual([200, 0]);
  });
});
