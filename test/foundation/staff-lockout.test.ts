import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { LOGIN_ACCOUNT_FREE, LOGIN_ADDRESS_LIMIT } from '../../server/modules/staff/staff.service';
import { buildTestApp, type TestApp } from '../helpers/app';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Staff login guesses through POST /api/admin/login with distinct client addresses (`remoteAddress`): each guess is
 * counted before it is judged, a guesser's address is bounded and not the owner, past a wider ceiling on the account
 * each try waits a doubling delay (a refusal with Retry-After), and `npm run admin:unlock` clears it all.
 */
describe('staff login lockout', () => {
  let t: TestApp;
  let owner: { authorization: string };

  beforeAll(async () => {
    t = await buildTestApp();
    owner = await t.ownerAuth();
    for (const username of ['racer', 'crowd', 'victim', 'slow', 'locked']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/admin/staff', headers: owner, payload: { username, password: `${username}-password-1`, role: 'operator' } });
      expect(res.statusCode).toBe(201);
    }
  });
  afterAll(async () => t.close());

  const login = (username: string, password: string, remoteAddress: string) =>
    t.app.inject({ method: 'POST', url: '/api/admin/login', payload: { username, password }, remoteAddress });
  const wrong = (username: string, remoteAddress: string, i = 0) => login(username, `wrong-${i}-password`, remoteAddress);
  const right = (username: string, remoteAddress: string) => login(username, `${username}-password-1`, remoteAddress);
  const sessions = async (username: string) =>
    (await t.app.infra.db.dataSource.query('SELECT count(*)::int AS n FROM staff_session s JOIN staff_account a ON a.id = s.staff_id WHERE a.username = $1', [username]))[0].n;
  const codes = (res: Array<{ statusCode: number; json(): { code: string } }>) => {
    const tally: Record<string, number> = {};
    for (const r of res) tally[`${r.statusCode} ${r.json().code}`] = (tally[`${r.statusCode} ${r.json().code}`] ?? 0) + 1;
    return tally;
  };

  it('race (true concurrency in PostgreSQL + Redis mode): 40 wrong logins fired together from one address judge exactly 10', async () => {
    const res = await Promise.all(Array.from({ length: 40 }, (_, i) => wrong('racer', '10.1.0.1', i)));
    // 20 pass the route's per-address budget; of those, 10 are judged and 10 refused unjudged.
    expect(codes(res)).toEqual({ '401 invalid_credentials': LOGIN_ADDRESS_LIMIT, '429 too_many_attempts': 10, '429 rate_limited': 20 });
    expect((await right('racer', '10.1.0.1')).statusCode).toBe(429);
    expect(await sessions('racer')).toBe(0);
  });

  it('race (true concurrency in PostgreSQL + Redis mode): 40 wrong logins fired together from 40 addresses judge exactly 31, the ceiling and one past it', async () => {
    const res = await Promise.all(Array.from({ length: 40 }, (_, i) => wrong('crowd', `10.2.0.${i + 1}`, i)));
    expect(codes(res)).toEqual({ '401 invalid_credentials': LOGIN_ACCOUNT_FREE + 1, '429 login_delayed': 40 - LOGIN_ACCOUNT_FREE - 1 });
    const delayed = res.find((r) => r.statusCode === 429)!;
    expect(delayed.headers['retry-after']).toBe('1');
    expect(delayed.json().details).toEqual({ retryAfterSeconds: 1 });
  });

  it('bounds the guesser, not the owner: ten wrong passwords shut one address out while the owner logs in from another', async () => {
    for (let i = 0; i < LOGIN_ADDRESS_LIMIT; i++) expect((await wrong('victim', '10.3.0.66', i)).statusCode).toBe(401);
    const refused = await right('victim', '10.3.0.66');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('too_many_attempts');
    const wait = Number(refused.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    expect(refused.json().details).toEqual({ retryAfterSeconds: wait });

    const owner = await right('victim', '10.3.0.7');
    expect(owner.statusCode).toBe(200);
    expect(owner.json().staff.username).toBe('victim');
    // The owner's success changes nothing for the guesser's address.
    expect((await wrong('victim', '10.3.0.66')).json().code).toBe('too_many_attempts');
    expect(await sessions('victim')).toBe(1);
  });

  it('past the account ceiling each further try waits a doubling delay, refused with Retry-After and not judged', async () => {
    // 30 wrong guesses from three addresses: all judged, no delay yet.
    for (let i = 0; i < LOGIN_ACCOUNT_FREE; i++) expect((await wrong('slow', `10.4.0.${1 + Math.floor(i / LOGIN_ADDRESS_LIMIT)}`, i)).statusCode).toBe(401);
    expect((await wrong('slow', '10.4.1.1')).statusCode).toBe(401); // the 31st: judged, and a 1 s delay starts

    const early = await right('slow', '10.4.1.2');
    expect(early.statusCode).toBe(429);
    expect(early.json()).toMatchObject({ code: 'login_delayed', details: { retryAfterSeconds: 1 } });
    expect(early.headers['retry-after']).toBe('1');
    expect(await sessions('slow')).toBe(0);

    await sleep(1_100);
    expect((await wrong('slow', '10.4.1.3')).statusCode).toBe(401); // the 32nd: a 2 s delay
    expect((await right('slow', '10.4.1.4')).headers['retry-after']).toBe('2');
    await sleep(2_100);
    // The owner waits out the delay and gets in; the guess after that waits twice as long again.
    expect((await right('slow', '10.4.1.5')).statusCode).toBe(200);
    const later = await wrong('slow', '10.4.1.6');
    expect(later.json().code).toBe('login_delayed');
    expect(later.headers['retry-after']).toBe('4');
    expect(await sessions('slow')).toBe(1);
  });

  it('npm run admin:unlock -- --username X clears the account’s counters on every address', async () => {
    for (const address of ['10.5.0.1', '10.5.0.2']) {
      for (let i = 0; i < LOGIN_ADDRESS_LIMIT; i++) expect((await wrong('locked', address, i)).statusCode).toBe(401);
      expect((await right('locked', address)).json().code).toBe('too_many_attempts');
    }
    const env = { ...process.env, DATABASE_URL: t.database.url, REDIS_URL: '', NODE_ENV: 'test', LOG_LEVEL: 'silent' };
    const cwd = path.resolve(__dirname, '../..');
    const out = await run('npm', ['run', '--silent', 'admin:unlock', '--', '--username', 'LOCKED'], { cwd, env });
    expect(out.stdout).toBe('Unlocked "locked": its failed logins are forgotten on every address\n');
    expect((await right('locked', '10.5.0.1')).statusCode).toBe(200);
    expect((await right('locked', '10.5.0.2')).statusCode).toBe(200);

    const unknown = await run('npm', ['run', '--silent', 'admin:unlock', '--', '--username', 'nobody'], { cwd, env }).catch((err: { code: number; stderr: string }) => err);
    expect(unknown).toMatchObject({ code: 1, stderr: 'No staff account "nobody"\n' });
  });
});
