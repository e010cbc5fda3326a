import { buildTestApp, TEST_OWNER, type TestApp } from '../helpers/app';

describe('merchant staff accounts and the /api/admin guard', () => {
  let t: TestApp;
  let owner: { authorization: string };

  beforeAll(async () => {
    t = await buildTestApp();
    owner = await t.ownerAuth();
  });
  afterAll(async () => t.close());

  const login = (username: string, password: string) =>
    t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username, password } });

  it('creates the first owner from ADMIN_USERNAME / ADMIN_PASSWORD and stores only a scrypt hash', async () => {
    const me = await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: owner });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username: TEST_OWNER.username, role: 'owner' });
    const [row] = await t.app.infra.db.dataSource.query('SELECT password_hash FROM staff_account WHERE username = $1', [TEST_OWNER.username]);
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain(TEST_OWNER.password);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const wrong = await login(TEST_OWNER.username, 'not-the-password');
    const unknown = await login('nobody', 'whatever-password');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().code).toBe('invalid_credentials');
  });

  it('answers 401 missing_token without a token and 401 invalid_session with a made-up one', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/api/admin/me' });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('missing_token');
    const forged = await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: 'Bearer forged-token' } });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('invalid_session');
  });

  it('answers 401 session_expired once a session is past its expiry', async () => {
    const res = await login(TEST_OWNER.username, TEST_OWNER.password);
    const token = res.json().token as string;
    await t.app.infra.db.dataSource.query(
      "UPDATE staff_session SET expires_at = now() - interval '1 second' WHERE token_hash = encode(sha256($1::bytea), 'hex')",
      [token],
    );
    const me = await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.statusCode).toBe(401);
    expect(me.json().code).toBe('session_expired');
  });

  it('revokes a session on logout', async () => {
    const token = (await login(TEST_OWNER.username, TEST_OWNER.password)).json().token as string;
    const auth = { authorization: `Bearer ${token}` };
    expect((await t.app.inject({ method: 'POST', url: '/api/admin/logout', headers: auth })).statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: auth });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('invalid_session');
  });

  it('lets the owner create operators and customer service, who get 403 on owner-only routes', async () => {
    for (const role of ['operator', 'customer_service'] as const) {
      const username = `${role.replace('_', '-')}-1`;
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/admin/staff',
        headers: owner,
        payload: { username, password: 'staff-password-1', role },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ username, role, disabled: false });
      expect(created.body).not.toContain('staff-password-1');

      const token = (await login(username, 'staff-password-1')).json().token as string;
      const auth = { authorization: `Bearer ${token}` };
      expect((await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: auth })).statusCode).toBe(200);
      const denied = await t.app.inject({ method: 'GET', url: '/api/admin/staff', headers: auth });
      expect(denied.statusCode).toBe(403);
      expect(denied.json().code).toBe('role_forbidden');
    }
    const list = await t.app.inject({ method: 'GET', url: '/api/admin/staff', headers: owner });
    expect(list.json().map((s: { role: string }) => s.role).sort()).toEqual(['customer_service', 'operator', 'owner']);
  });

  it('refuses a duplicate username with 409 and a bad body with 400 invalid_request', async () => {
    const dup = await t.app.inject({
      method: 'POST',
      url: '/api/admin/staff',
      headers: owner,
      payload: { username: 'OWNER', password: 'another-password', role: 'operator' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('username_taken');
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/admin/staff',
      headers: owner,
      payload: { username: 'x', password: 'short', role: 'king' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('invalid_request');
  });

  it('disabling an account revokes its live sessions', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/admin/staff',
      headers: owner,
      payload: { username: 'leaver', password: 'leaver-password', role: 'operator' },
    });
    const token = (await login('leaver', 'leaver-password')).json().token as string;
    const res = await t.app.inject({ method: 'POST', url: `/api/admin/staff/${created.json().id}/disable`, headers: owner });
    expect(res.statusCode).toBe(204);
    const me = await t.app.inject({ method: 'GET', url: '/api/admin/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.statusCode).toBe(401);
    expect((await login('leaver', 'leaver-password')).statusCode).toBe(401);
  });

  it('locks a username out after ten failed logins', async () => {
    await t.app.inject({
      method: 'POST',
      url: '/api/admin/staff',
      headers: owner,
      payload: { username: 'target', password: 'target-password', role: 'operator' },
    });
    for (let i = 0; i < 10; i++) expect((await login('target', `guess-${i}-password`)).statusCode).toBe(401);
    const locked = await login('target', 'target-password');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('too_many_attempts');
  });
});
