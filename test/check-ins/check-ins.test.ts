import { addDays, shanghaiDay } from '../../server/infra/time';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { PG_RACE, watchConnections } from '../helpers/race';

/** Daily check-in through the real app: mini-program sessions from sandbox login codes, the real points ledger. */
describe('check-in', () => {
  let t: SandboxTestApp;
  let owner: { authorization: string };

  // The app's clock, fixed: noon in Shanghai on a day that is not today, so that the server's day is provably the
  // clock's (and a run crossing 16:00 UTC, midnight in Shanghai, cannot split the test's day from the server's).
  const NOW = new Date('2026-06-15T04:00:00Z');
  const TODAY = '2026-06-15';
  expect(shanghaiDay(NOW)).toBe(TODAY);

  beforeAll(async () => {
    t = await buildSandboxApp({}, { clock: () => NOW });
    owner = await t.ownerAuth();
  });
  afterAll(async () => t.close());

  async function member(): Promise<{ id: string; personId: string; auth: { authorization: string } }> {
    const p = (await t.sandbox('POST', '/people', {})).body as { id: string };
    const { code } = (await t.sandbox('POST', `/people/${p.id}/login-code`, {})).body;
    const res = await t.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
    expect(res.statusCode).toBe(200);
    return { id: res.json().member.id, personId: p.id, auth: { authorization: `Bearer ${res.json().token}` } };
  }
  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);

  it(`50 simultaneous taps check in once and credit the reward once; past 20 a minute the session is rate-limited: ${PG_RACE}`, async () => {
    const m = await member();
    const race = watchConnections(t.app);
    const taps = await Promise.all(Array.from({ length: 50 }, () => t.app.inject({ method: 'POST', url: '/api/mp/check-ins', headers: m.auth })));
    race.done();
    const codes = taps.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(19);
    expect(codes.filter((c) => c === 429)).toHaveLength(30);
    expect(taps.find((r) => r.statusCode === 409)!.json().code).toBe('already_checked_in');
    const ok = taps.find((r) => r.statusCode === 200)!.json();
    expect(ok).toMatchObject({ date: TODAY, streak: 1, reward: { points: 5 }, pointsBalance: 5 });
    expect(await q('SELECT count(*)::int AS n FROM check_in WHERE member_id = $1', [m.id])).toEqual([{ n: 1 }]);
    expect((await t.app.inject({ method: 'GET', url: '/api/mp/me', headers: m.auth })).json().pointsBalance).toBe(5);
  });

  it('a check-in and its points are one: no points rule gives a row and the balance, an erased member gets neither', async () => {
    const s = t.app.services.checkIns;
    const m = await member();
    await s.checkIn({}, m.id, new Date('2026-03-01T02:00:00Z'));
    await t.app.inject({ method: 'PUT', url: '/api/admin/check-in-rules', headers: owner, payload: { basePoints: 0 } });
    try {
      const quiet = await s.checkIn({}, m.id, new Date('2026-03-02T02:00:00Z'));
      expect(quiet).toMatchObject({ streak: 2, reward: { points: 0 }, pointsBalance: 5 });
      expect(await q("SELECT count(*)::int AS n FROM points_transaction WHERE member_id = $1 AND idempotency_key LIKE 'check-in:%'", [m.id])).toEqual([{ n: 1 }]);
    } finally {
      await t.app.inject({ method: 'PUT', url: '/api/admin/check-in-rules', headers: owner, payload: { basePoints: 5 } });
    }
    const gone = await member();
    await q("UPDATE member SET status = 'erased' WHERE id = $1", [gone.id]);
    await expect(s.checkIn({}, gone.id, new Date('2026-03-03T02:00:00Z'))).rejects.toMatchObject({ code: 'member_inactive' });
    expect(await q('SELECT count(*)::int AS n FROM check_in WHERE member_id = $1', [gone.id])).toEqual([{ n: 0 }]);
  });

  it('counts streaks across days, pays the day-7 bonus with a make-up card, and shows the month', async () => {
    const m = await member();
    const s = t.app.services.checkIns;
    const start = new Date('2026-03-01T02:00:00Z'); // 10:00 in Shanghai
    const results = [];
    for (let d = 0; d < 7; d++) results.push(await s.checkIn({}, m.id, new Date(start.getTime() + d * 86_400_000)));
    expect(results.map((r) => r.streak)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(results[6]!.reward.points).toBe(5 + 20);
    expect(results[6]!.pointsBalance).toBe(6 * 5 + 25);
    // A gap resets the streak.
    const after = await s.checkIn({}, m.id, new Date(start.getTime() + 8 * 86_400_000));
    expect(after.streak).toBe(1);
    const month = await s.month({}, m.id, '2026-03', new Date(start.getTime() + 8 * 86_400_000));
    expect(month.makeUpCards).toBe(1);
    expect(month.days.filter((d) => d.checkedIn).map((d) => d.date)).toEqual([
      '2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-09',
    ]);
    expect(month.days).toHaveLength(31);
    // Making up the missed day with the card joins the two runs into one streak, and costs no points.
    const made = await s.makeUp({}, m.id, '2026-03-08', new Date(start.getTime() + 8 * 86_400_000));
    expect(made).toMatchObject({ streak: 8, reward: { points: 0 } });
    expect(made.pointsBalance).toBe(after.pointsBalance);
    const later = await s.month({}, m.id, '2026-03', new Date(start.getTime() + 8 * 86_400_000));
    expect(later).toMatchObject({ makeUpCards: 0, streak: 9, todayCheckedIn: true });
  });

  it('makes up with points when no card is left, and refuses what cannot be made up', async () => {
    const m = await member();
    const today = TODAY;
    const make = (date: string) => t.app.inject({ method: 'POST', url: '/api/mp/check-ins/make-up', headers: m.auth, payload: { date } });
    // No card and no points: refused, nothing written.
    const broke = await make(addDays(today, -2));
    expect(broke.statusCode).toBe(409);
    expect(broke.json().code).toBe('no_make_up_card');
    expect(await q('SELECT count(*)::int AS n FROM check_in WHERE member_id = $1', [m.id])).toEqual([{ n: 0 }]);
    // With 60 points the make-up costs 50.
    await t.app.services.points.earn({}, { memberId: m.id, amount: 60, idempotencyKey: `gift:${m.id}`, reason: 'test credit' });
    const paid = await make(addDays(today, -2));
    expect(paid.statusCode).toBe(200);
    expect(paid.json()).toMatchObject({ date: addDays(today, -2), pointsBalance: 10 });
    expect((await make(addDays(today, -2))).json().code).toBe('not_missed');
    expect((await make(today)).json().code).toBe('not_missed');
    expect((await make(addDays(today, -30))).json().code).toBe('too_old');
    expect((await make('2026-13-01')).statusCode).toBe(400);
  });

  it('sends the evening reminder once per acceptance, only to who has not checked in', async () => {
    const rules = await t.app.inject({ method: 'PUT', url: '/api/admin/check-in-rules', headers: owner, payload: { reminderTemplateId: 'TPL_CHECKIN' } });
    expect(rules.statusCode).toBe(200);
    const m = await member();
    await t.sandbox('POST', `/people/${m.personId}/subscriptions`, { templateId: 'TPL_CHECKIN', app: 'mp' });
    expect((await t.app.inject({ method: 'POST', url: '/api/mp/check-ins/reminder', headers: m.auth, payload: { accepted: true } })).statusCode).toBe(204);
    const done = await member();
    await t.app.inject({ method: 'POST', url: '/api/mp/check-ins/reminder', headers: done.auth, payload: { accepted: true } });
    await t.app.inject({ method: 'POST', url: '/api/mp/check-ins', headers: done.auth });

    const first = await t.app.services.checkIns.sendDailyReminders({});
    expect(first).toEqual({ sent: 1, failed: 0 });
    const inbox = (await t.sandbox('GET', `/people/${m.personId}/inbox`)).body.items;
    expect(inbox.filter((i: { channel: string }) => i.channel === 'mp_subscribe')).toHaveLength(1);
    expect(await t.app.services.checkIns.sendDailyReminders({})).toEqual({ sent: 0, failed: 0 });
  });

  it('guards the routes: a session is required, rules are the merchant’s, bad values are refused', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/api/mp/check-ins' })).statusCode).toBe(401);
    const forged = await t.app.inject({ method: 'POST', url: '/api/mp/check-ins', headers: { authorization: 'Bearer nope' } });
    expect(forged.json().code).toBe('invalid_session');
    const bad = await t.app.inject({ method: 'PUT', url: '/api/admin/check-in-rules', headers: owner, payload: { basePoints: -1 } });
    expect(bad.statusCode).toBe(400);
    const m = await member();
    expect((await t.app.inject({ method: 'GET', url: '/api/mp/check-ins?month=2026-3', headers: m.auth })).statusCode).toBe(400);
    const cal = await t.app.inject({ method: 'GET', url: '/api/mp/check-ins', headers: m.auth });
    expect(cal.json()).toMatchObject({ month: '2026-06', todayCheckedIn: false, streak: 0, rules: { basePoints: 5 } });
  });
});
