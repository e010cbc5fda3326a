import { spawn } from 'node:child_process';
import { waitFor } from '../helpers/wait';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildTestApp, type TestApp } from '../helpers/app';
import { PG_RACE, watchConnections } from '../helpers/race';

describe('points ledger', () => {
  let t: TestApp;
  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);
  const newMember = async () =>
    (await t.app.services.members.findOrCreateByOpenid({}, { app: 'mp', openid: `o${randomBytes(10).toString('hex')}` })).memberId;

  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('replays a key with the same request and refuses it with a different one', async () => {
    const { points } = t.app.services;
    const m = await newMember();
    const first = await points.earn({}, { memberId: m, amount: 30, idempotencyKey: `checkin:${m}:2026-11-23`, reason: 'check-in' });
    expect(first).toMatchObject({ amount: 30, balanceAfter: 30, replayed: false });
    await points.earn({}, { memberId: m, amount: 5, idempotencyKey: `other:${m}`, reason: 'game' });
    const again = await points.earn({}, { memberId: m, amount: 30, idempotencyKey: `checkin:${m}:2026-11-23`, reason: 'check-in' });
    expect(again).toEqual({ ...first, replayed: true });
    await expect(points.earn({}, { memberId: m, amount: 31, idempotencyKey: `checkin:${m}:2026-11-23`, reason: 'check-in' })).rejects.toMatchObject({
      code: 'idempotency_key_reused',
      kind: 'conflict',
    });
    expect(await points.balance({}, m)).toBe(35);
  });

  it('refuses to update or delete entries and transactions (database trigger)', async () => {
    const { points } = t.app.services;
    const m = await newMember();
    const r = await points.earn({}, { memberId: m, amount: 7, idempotencyKey: `trig:${m}`, reason: 'x' });
    await expect(q('UPDATE points_entry SET amount = 700 WHERE transaction_id = $1', [r.transactionId])).rejects.toThrow(/append-only/);
    await expect(q('DELETE FROM points_entry WHERE transaction_id = $1', [r.transactionId])).rejects.toThrow(/append-only/);
    await expect(q('UPDATE points_transaction SET amount = 1 WHERE id = $1', [r.transactionId])).rejects.toThrow(/append-only/);
    await expect(q('TRUNCATE points_entry CASCADE')).rejects.toThrow(/append-only/);
    // And entries that do not sum to zero never commit.
    await expect(
      t.app.infra.db.transaction({}, async (tx) => {
        await tx.em!.query("INSERT INTO points_entry (transaction_id, account_id, amount) VALUES ($1, (SELECT id FROM points_account WHERE code = 'issued'), 5)", [r.transactionId]);
      }),
    ).rejects.toThrow(/does not balance/);
  });

  it('reverses with a new transaction pointing at the original, never past what is left', async () => {
    const { points } = t.app.services;
    const m = await newMember();
    const earn = await points.earn({}, { memberId: m, amount: 100, idempotencyKey: `rev:${m}`, reason: 'order' });
    const part = await points.reverse({}, { transactionId: earn.transactionId, amount: 40, idempotencyKey: `rev:${m}:1`, reason: 'partial refund' });
    expect(part).toMatchObject({ kind: 'reverse', amount: -40, balanceAfter: 60, reversesId: earn.transactionId });
    const rest = await points.reverse({}, { transactionId: earn.transactionId, idempotencyKey: `rev:${m}:2`, reason: 'refund' });
    expect(rest).toMatchObject({ amount: -60, balanceAfter: 0 });
    await expect(points.reverse({}, { transactionId: earn.transactionId, idempotencyKey: `rev:${m}:3`, reason: 'again' })).rejects.toMatchObject({ code: 'already_reversed' });
    await expect(points.reverse({}, { transactionId: rest.transactionId, idempotencyKey: `rev:${m}:4`, reason: 'x' })).rejects.toMatchObject({ code: 'not_reversible' });
    const [orig] = await q('SELECT amount FROM points_transaction WHERE id = $1', [earn.transactionId]);
    expect(orig.amount).toBe('100');

    const spend = await (async () => {
      await points.earn({}, { memberId: m, amount: 10, idempotencyKey: `rev:${m}:top`, reason: 'top-up' });
      return points.spend({}, { memberId: m, amount: 10, idempotencyKey: `rev:${m}:spend`, reason: 'mall' });
    })();
    const refund = await points.reverse({}, { transactionId: spend.transactionId, idempotencyKey: `rev:${m}:spend-back`, reason: 'order cancelled' });
    expect(refund).toMatchObject({ amount: 10, balanceAfter: 10 });
  });

  it('expires lots first in first out through the queued daily job', async () => {
    const { points } = t.app.services;
    const m = await newMember();
    const expiresAt = new Date(Date.now() + 1500);
    await points.earn({}, { memberId: m, amount: 30, idempotencyKey: `exp:${m}:old`, reason: 'old', expiresAt });
    await points.earn({}, { memberId: m, amount: 50, idempotencyKey: `exp:${m}:new`, reason: 'new' });
    await points.spend({}, { memberId: m, amount: 20, idempotencyKey: `exp:${m}:spend`, reason: 'mall' });
    expect(await points.expiringSoon({}, m, 1)).toEqual([{ amount: 10, expiresAt: expect.any(String) }]);
    // Until the lot's moment has passed, on the database's clock as on ours, the job has nothing to expire.
    await waitFor('the lot to be due', async () => Date.now() > expiresAt.getTime() && (await t.app.infra.db.dataSource.query('SELECT now() > $1 AS due', [expiresAt]))[0].due);
    expect(await points.balance({}, m)).toBe(60);
    await t.app.infra.queue.send({}, 'members.daily', { day: 'test' });
    await waitFor('the queued job to expire the lot', async () => (await points.balance({}, m)) === 50);
    expect(await points.balance({}, m)).toBe(50);
    const history = await points.history({}, m);
    expect(history[0]).toMatchObject({ kind: 'expire', amount: -10, balanceAfter: 50 });
    // Expiring again finds nothing: the lot is used up.
    expect(await points.expireDue({})).toBe(0);
  });

  it('the audit finds nothing on an honest ledger and reports a tampered balance (CLI exits 1)', async () => {
    const { auditLedger } = await import('../../server/modules/points/points-audit');
    expect((await auditLedger(t.app.infra.db)).differences).toEqual([]);
    const m = await newMember();
    await t.app.services.points.earn({}, { memberId: m, amount: 12, idempotencyKey: `audit:${m}`, reason: 'x' });
    await q('UPDATE points_account SET balance = balance + 5 WHERE member_id = $1', [m]);
    const audit = await auditLedger(t.app.infra.db);
    expect(audit.differences).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'balance', memberId: m, expected: 12, actual: 17 })]),
    );
    const cli = await runAudit(t.database.url);
    expect(cli.stdout).toContain(`DIFFERENCE balance member ${m}: expected 12, found 17`);
    expect(cli.status).toBe(1);
    await q('UPDATE points_account SET balance = balance - 5 WHERE member_id = $1', [m]);
    const clean = await runAudit(t.database.url);
    expect(clean.stdout).toContain('no differences');
    expect(clean.status).toBe(0);
  });

  it('rejects bad amounts and unknown members with stable codes', async () => {
    const { points } = t.app.services;
    const m = await newMember();
    await expect(points.earn({}, { memberId: m, amount: 0, idempotencyKey: 'z1', reason: 'x' })).rejects.toMatchObject({ code: 'invalid_amount' });
    await expect(points.earn({}, { memberId: m, amount: 1.5, idempotencyKey: 'z2', reason: 'x' })).rejects.toMatchObject({ code: 'invalid_amount' });
    await expect(points.spend({}, { memberId: m, amount: 1, idempotencyKey: 'z3', reason: 'x' })).rejects.toMatchObject({ code: 'insufficient_points' });
    await expect(
      points.earn({}, { memberId: '00000000-0000-0000-0000-000000000000', amount: 1, idempotencyKey: 'z4', reason: 'x' }),
    ).rejects.toMatchObject({ code: 'member_not_found' });
  });
});

describe('points ledger under contention', () => {
  let t: TestApp;
  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);
  const newMember = async () =>
    (await t.app.services.members.findOrCreateByOpenid({}, { app: 'mp', openid: `o${randomBytes(10).toString('hex')}` })).memberId;

  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it(`posts a key once when ten identical requests race: ${PG_RACE}`, async () => {
    const { points } = t.app.services;
    const m = await newMember();
    await points.earn({}, { memberId: m, amount: 35, idempotencyKey: `burst-seed:${m}`, reason: 'seed' });
    const race = watchConnections(t.app);
    const burst = await Promise.all(Array.from({ length: 10 }, () => points.spend({}, { memberId: m, amount: 3, idempotencyKey: `redeem:${m}:1`, reason: 'mall' })));
    race.done();
    expect(new Set(burst.map((b) => b.transactionId)).size).toBe(1);
    expect(burst.filter((b) => !b.replayed)).toHaveLength(1);
    expect(await points.balance({}, m)).toBe(32);
  });

  it(`credits race safely: identical ones post once, distinct ones all add up, entries match the balance: ${PG_RACE}`, async () => {
    const { points } = t.app.services;
    const m = await newMember();
    const race = watchConnections(t.app);
    const same = await Promise.all(Array.from({ length: 10 }, () => points.earn({}, { memberId: m, amount: 7, idempotencyKey: `order:${m}:1`, reason: 'order' })));
    expect(new Set(same.map((r) => r.transactionId)).size).toBe(1);
    expect(same.filter((r) => !r.replayed)).toHaveLength(1);
    const distinct = await Promise.all(
      Array.from({ length: 40 }, (_, i) => points.earn({}, { memberId: m, amount: i + 1, idempotencyKey: `game:${m}:${i}`, reason: 'game' })),
    );
    race.done();
    expect(distinct.filter((r) => r.replayed)).toEqual([]);
    expect(distinct).toHaveLength(40);
    expect(await points.balance({}, m)).toBe(7 + (40 * 41) / 2);
    // Each credit saw the balance the one before it left: the balances after are all different and the highest is the total.
    expect(new Set(distinct.map((r) => r.balanceAfter)).size).toBe(40);
    expect(Math.max(...distinct.map((r) => r.balanceAfter))).toBe(7 + (40 * 41) / 2);
    const [sums] = await q(
      `SELECT (SELECT sum(e.amount)::int FROM points_entry e JOIN points_account a ON a.id = e.account_id WHERE a.member_id = $1) AS entries,
              (SELECT sum(l.remaining)::int FROM points_lot l JOIN points_account a ON a.id = l.account_id WHERE a.member_id = $1) AS lots`,
      [m],
    );
    expect(sums).toEqual({ entries: 7 + (40 * 41) / 2, lots: 7 + (40 * 41) / 2 });
  });

  it('credits a member who has no points account yet (members from before accounts came with them)', async () => {
    const { points } = t.app.services;
    const [{ id }] = await q("INSERT INTO member (nickname) VALUES ('legacy') RETURNING id");
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => points.earn({}, { memberId: id, amount: 2, idempotencyKey: `legacy:${id}:${i}`, reason: 'game' })));
    expect(results.map((r) => r.balanceAfter).sort((a, b) => a - b)).toEqual([2, 4, 6, 8, 10]);
    expect(await points.balance({}, id)).toBe(10);
  });

  it(`100 parallel debits of 1 against a balance of 50: exactly 50 succeed and the balance is 0: ${PG_RACE}`, async () => {
    const { points } = t.app.services;
    const m = await newMember();
    await points.earn({}, { memberId: m, amount: 50, idempotencyKey: `seed:${m}`, reason: 'seed' });
    const race = watchConnections(t.app);
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => points.spend({}, { memberId: m, amount: 1, idempotencyKey: `spend:${m}:${i}`, reason: 'mall' })),
    );
    race.done();
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(50);
    expect(new Set(failed.map((f) => (f.reason as { code: string }).code))).toEqual(new Set(['insufficient_points']));
    expect(await points.balance({}, m)).toBe(0);
    const [lots] = await q('SELECT sum(l.remaining)::int AS left FROM points_lot l JOIN points_account a ON a.id = l.account_id WHERE a.member_id = $1', [m]);
    expect(lots.left).toBe(0);
  });

});

/** Runs `npm run ledger:audit` against the test database (asynchronously: the embedded server lives in this process). */
function runAudit(url: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../scripts/ledger-audit.ts')], {
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
