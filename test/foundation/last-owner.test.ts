import { Client } from 'pg';
import { buildTestApp, TEST_OWNER, type TestApp } from '../helpers/app';

/** An active owner always remains: the API refuses with 409 last_owner, and the database enforces it for every path. */
describe('the last active owner', () => {
  let t: TestApp;
  let owner: { authorization: string };
  const sql = (text: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(text, params);
  const activeOwners = async () => (await sql("SELECT username FROM staff_account WHERE role = 'owner' AND disabled_at IS NULL ORDER BY username")).map((r: { username: string }) => r.username);

  beforeAll(async () => {
    t = await buildTestApp();
    owner = await t.ownerAuth();
  });
  afterAll(async () => t.close());

  const me = async (auth: { authorization: string }) => (await t.app.inject({ url: '/api/admin/me', headers: auth })).json();
  const disable = (id: string, auth: { authorization: string }) => t.app.inject({ method: 'POST', url: `/api/admin/staff/${id}/disable`, headers: auth });

  async function newOwner(username: string) {
    const created = await t.app.inject({ method: 'POST', url: '/api/admin/staff', headers: owner, payload: { username, password: `${username}-password`, role: 'owner' } });
    expect(created.statusCode).toBe(201);
    const login = await t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username, password: `${username}-password` } });
    return { id: created.json().id as string, auth: { authorization: `Bearer ${login.json().token}` } };
  }

  it('cannot disable themselves: 409 last_owner, and they stay logged in', async () => {
    const { id } = await me(owner);
    const res = await disable(id, owner);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ code: 'last_owner', message: 'This is the last active owner: make another account owner first' });
    expect((await me(owner)).username).toBe(TEST_OWNER.username);
    expect(await activeOwners()).toEqual([TEST_OWNER.username]);
  });

  it('two owners disabling each other at once: one succeeds, the other is refused, one owner remains', async () => {
    const a = await newOwner('owner-a');
    const b = await newOwner('owner-b');
    // The test owner steps aside first (allowed: two others remain).
    expect((await disable((await me(owner)).id, owner)).statusCode).toBe(204);
    const [ra, rb] = await Promise.all([disable(b.id, a.auth), disable(a.id, b.auth)]);
    // The loser is refused either by the database (409 last_owner: both changes met at the owner check) or, when the
    // winner committed first, by its own session's check (401: the caller was disabled a moment before).
    const loser = [ra, rb].find((r) => r.statusCode !== 204)!;
    expect([ra.statusCode, rb.statusCode].filter((c) => c === 204)).toEqual([204]);
    expect([loser.statusCode, loser.json().code]).toEqual(loser.statusCode === 409 ? [409, 'last_owner'] : [401, 'invalid_session']);
    expect(await activeOwners()).toHaveLength(1);
    owner = ra.statusCode === 204 ? a.auth : b.auth;
  });

  it('demoting or deleting the last owner is refused by the database itself', async () => {
    const [last] = await activeOwners();
    await expect(sql("UPDATE staff_account SET role = 'operator' WHERE username = $1", [last])).rejects.toMatchObject({ driverError: { hint: 'last_owner' } });
    const deletion = t.app.infra.db.dataSource.transaction(async (m) => {
      await m.query('DELETE FROM staff_session WHERE staff_id = (SELECT id FROM staff_account WHERE username = $1)', [last]);
      await m.query('DELETE FROM staff_account WHERE username = $1', [last]);
    });
    await expect(deletion).rejects.toMatchObject({ driverError: { hint: 'last_owner' } });
    expect(await activeOwners()).toEqual([last]);
    // Operators come and go freely.
    await sql("INSERT INTO staff_account (username, password_hash, role) VALUES ('op-1', 'x', 'operator')");
    await sql("UPDATE staff_account SET disabled_at = now() WHERE username = 'op-1'");
  });

  // The embedded database has one connection: there is no concurrent transaction to race.
  (process.env.DATABASE_URL ? it : it.skip)('PostgreSQL: two transactions each disabling the other owner cannot both commit', async () => {
    await sql("INSERT INTO staff_account (username, password_hash, role) VALUES ('owner-c', 'x', 'owner')");
    const [first, second] = await activeOwners();
    const [c1, c2] = [new Client({ connectionString: t.database.url }), new Client({ connectionString: t.database.url })];
    await Promise.all([c1.connect(), c2.connect()]);
    try {
      await c1.query('BEGIN');
      await c1.query('UPDATE staff_account SET disabled_at = now() WHERE username = $1', [first]);
      await c2.query('BEGIN');
      // Waits for the first transaction's lock, then counts what it committed.
      const secondUpdate = c2.query('UPDATE staff_account SET disabled_at = now() WHERE username = $1', [second]).then(
        () => 'updated',
        (err: { hint?: string }) => err.hint,
      );
      await c1.query('COMMIT');
      expect(await secondUpdate).toBe('last_owner');
      await c2.query('ROLLBACK');
    } finally {
      await Promise.all([c1.end(), c2.end()]);
    }
    expect(await activeOwners()).toEqual([second]);
  });
});
