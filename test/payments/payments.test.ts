import { randomUUID } from 'node:crypto';
import { systemCtx } from '../../server/infra/db';
import type { PaymentIntent, PaymentRefund, PaymentsService } from '../../server/modules/payments';
import { REFUND_RULES } from '../../server/modules/payments/payments.service';
import { PG_RACE, watchConnections } from '../helpers/race';
import { waitFor } from '../helpers/wait';
import { storeKit, type StoreKit, type StoreMember } from '../store/store-kit';

/**
 * The payments module through the real app in sandbox mode, with a kind of its own (a test fixture registering in
 * one line, as a crowdfunding share or a gift will): intents paid in the WeChat Pay sandbox, whose signed
 * notifications reach /wechatpay/notify over HTTP; refunds sent to it and settled by its notifications or by query.
 */
let k: StoreKit;
let payments: PaymentsService;
const events: string[] = [];
beforeAll(async () => {
  k = await storeKit();
  payments = k.t.app.services.payments;
  payments.registerKind({
    kind: 'fixture',
    prefix: 'FX',
    onPaid: async (_ctx, i) => void events.push(`paid:${i.key}:${i.transactionId}`),
    onClosed: async (_ctx, i) => void events.push(`closed:${i.key}:${i.closeReason}`),
    onRefundSettled: async (_ctx, r) => void events.push(`refund:${r.key}:${r.state}:${r.amountFen}`),
  });
});
afterAll(async () => k.t.close());

const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);
const count = (what: string) => events.filter((e) => e === what).length;

/** A fixture intent of `amountFen`, paid by a sandbox person in the payment sheet. */
async function paidIntent(m: StoreMember, amountFen: number, opts: { drop?: boolean } = {}): Promise<PaymentIntent> {
  const key = randomUUID();
  const intent = await payments.createIntent(systemCtx, { kind: 'fixture', key, memberId: m.memberId, payerOpenid: m.mpOpenid, amountFen, description: '测试', expiresAt: new Date(Date.now() + 30 * 60_000) });
  expect(intent.outTradeNo).toMatch(/^FX\d{16}$/);
  const params = await payments.paymentParams(systemCtx, intent.id);
  if (opts.drop) expect((await k.t.sandbox('POST', '/pay/drop-notifications', { count: 1, eventType: 'TRANSACTION.SUCCESS', outTradeNo: intent.outTradeNo })).status).toBe(200);
  const paid = await k.t.sandbox('POST', `/people/${m.personId}/pay`, { prepayId: params.package.replace(/^prepay_id=/, '') });
  expect(paid.status).toBe(200);
  if (opts.drop) return intent;
  await waitFor('the payment notification', async () => (await payments.intent(systemCtx, intent.id)).state === 'paid');
  return payments.intent(systemCtx, intent.id);
}

const refundRow = async (id: string) => (await sql('SELECT state, not_before, out_refund_no FROM payment_refund WHERE id = $1', [id]))[0];
const sandboxRefunds = (outTradeNo: string) => k.wxpay.snapshot().refunds.filter((r) => r.out_trade_no === outTradeNo);

describe('a kind of its own', () => {
  it('registers with one line; a prefix that overlaps another kind is refused', () => {
    const handlers = { onPaid: async () => {}, onClosed: async () => {}, onRefundSettled: async () => {} };
    expect(() => payments.registerKind({ kind: 'other', prefix: 'F', ...handlers })).toThrow(/overlaps fixture/);
    expect(() => payments.registerKind({ kind: 'other', prefix: 'FXY', ...handlers })).toThrow(/overlaps fixture/);
    expect(() => payments.registerKind({ kind: 'other', prefix: 'X1', ...handlers })).toThrow(/letters/);
  });

  it('several payers of one thing are several intents, each its own JSAPI order; each paid once however often WeChat tells', async () => {
    const [a, b] = [await k.member('crowd-a'), await k.member('crowd-b')];
    const [ia, ib] = [await paidIntent(a, 500), await paidIntent(b, 700)];
    expect(ia.outTradeNo).not.toBe(ib.outTradeNo);
    const delivery = k.wxpay.notifications().find((d) => d.eventType === 'TRANSACTION.SUCCESS' && (d.resource as { out_trade_no: string }).out_trade_no === ia.outTradeNo)!;
    await k.wxpay.settled(delivery.id);
    expect((await Promise.all([k.redeliver(delivery.id), k.redeliver(delivery.id)])).map((r) => r.status)).toEqual([204, 204]);
    expect(count(`paid:${ia.key}:${ia.transactionId}`)).toBe(1);
    expect(count(`paid:${ib.key}:${ib.transactionId}`)).toBe(1);
    expect([ia.payerOpenid, ib.payerOpenid]).toEqual([a.mpOpenid, b.mpOpenid]);
  });
});

describe('partial refunds within WeChat Pay’s rules', () => {
  it('refunds in parts; a refund within a minute of the last waits its minute; more than was paid is refused; the same key is the same refund', async () => {
    const m = await k.member('partial');
    const intent = await paidIntent(m, 1000);
    const first = await payments.refund(systemCtx, { intentId: intent.id, key: 'line-1', amountFen: 300, reason: '少发一件' });
    expect(first).toMatchObject({ state: 'pending', outRefundNo: `${intent.outTradeNo}R1`, amountFen: 300 });
    expect(await payments.refund(systemCtx, { intentId: intent.id, key: 'line-1', amountFen: 300, reason: '少发一件' })).toMatchObject({ id: first.id });
    await payments.submitRefund(systemCtx, first.id);
    // WeChat's answer is "accepted": processing until its notification says it succeeded.
    expect((await refundRow(first.id)).state).toBe('processing');
    await waitFor('the refund notification', () => count(`refund:line-1:succeeded:300`) === 1);
    expect((await refundRow(first.id)).state).toBe('succeeded');

    const second = await payments.refund(systemCtx, { intentId: intent.id, key: 'line-2', amountFen: 500, reason: '质量问题' });
    expect(second.outRefundNo).toBe(`${intent.outTradeNo}R2`);
    const [{ gap }] = await sql(
      'SELECT extract(epoch FROM r2.not_before - r1.not_before)::float AS gap FROM payment_refund r1, payment_refund r2 WHERE r1.id = $1 AND r2.id = $2',
      [first.id, second.id],
    );
    expect(gap).toBeGreaterThanOrEqual(REFUND_RULES.gapSeconds);
    await payments.submitRefund(systemCtx, second.id); // too early: nothing is sent
    expect(sandboxRefunds(intent.outTradeNo)).toHaveLength(1);

    const over = payments.refund(systemCtx, { intentId: intent.id, key: 'line-3', amountFen: 201, reason: 'x' });
    await expect(over).rejects.toMatchObject({ code: 'refund_exceeds_paid', details: { refundableFen: 200, requestedFen: 201 } });

    // The minute has passed (moved back here): reconciliation sends what its job has not.
    await sql("UPDATE payment_refund SET not_before = not_before - interval '5 minutes' WHERE id = $1", [second.id]);
    await payments.reconcile(systemCtx);
    expect(sandboxRefunds(intent.outTradeNo).map((r) => [r.out_refund_no, r.amount.refund])).toEqual([
      [`${intent.outTradeNo}R1`, 300],
      [`${intent.outTradeNo}R2`, 500],
    ]);
    await waitFor('the second refund', () => count(`refund:line-2:succeeded:500`) === 1);
    expect((await payments.intent(systemCtx, intent.id)).refundedFen).toBe(800);
  });

  it('a retry reuses its out_refund_no: WeChat refunds once', async () => {
    const m = await k.member('retry');
    const intent = await paidIntent(m, 800);
    const r = await payments.refund(systemCtx, { intentId: intent.id, key: 'all', amountFen: 800, reason: '不要了' });
    await payments.submitRefund(systemCtx, r.id);
    // The answer was lost before it was recorded: the refund is sent again, under the same number.
    await sql("UPDATE payment_refund SET state = 'pending' WHERE id = $1 AND state = 'processing'", [r.id]);
    await payments.submitRefund(systemCtx, r.id);
    expect(sandboxRefunds(intent.outTradeNo)).toEqual([expect.objectContaining({ out_refund_no: r.outRefundNo, amount: expect.objectContaining({ refund: 800 }) })]);
    await waitFor('the refund to settle', () => count('refund:all:succeeded:800') === 1);
    expect(count('refund:all:succeeded:800')).toBe(1);
  });

  it(`two refunds at once of more than was paid together: exactly one is taken: ${PG_RACE}`, async () => {
    const m = await k.member('racer');
    const intent = await paidIntent(m, 1000);
    const race = watchConnections(k.t.app);
    const results = await Promise.allSettled([
      payments.refund({}, { intentId: intent.id, key: 'a', amountFen: 600, reason: 'a' }),
      payments.refund({}, { intentId: intent.id, key: 'b', amountFen: 600, reason: 'b' }),
    ]);
    race.done();
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'refund_exceeds_paid' });
    const rows = await sql('SELECT sum(amount_fen)::int AS total, count(*)::int AS n FROM payment_refund WHERE intent_id = $1', [intent.id]);
    expect(rows).toEqual([{ total: 600, n: 1 }]);
    expect((await payments.intent(systemCtx, intent.id)).refundedFen).toBe(600);
    // Two that fit together are both taken.
    const two = await Promise.all([
      payments.refund({}, { intentId: intent.id, key: 'c', amountFen: 200, reason: 'c' }),
      payments.refund({}, { intentId: intent.id, key: 'd', amountFen: 200, reason: 'd' }),
    ]);
    expect(two.map((r: PaymentRefund) => r.outRefundNo).sort()).toEqual([`${intent.outTradeNo}R2`, `${intent.outTradeNo}R3`]);
    expect((await payments.intent(systemCtx, intent.id)).refundedFen).toBe(1000);
  });

  it('at most 50 refunds per payment, within 365 days of it; an unpaid intent is not refunded', async () => {
    const m = await k.member('limits');
    const intent = await paidIntent(m, 1000);
    await sql('UPDATE payment_intent SET refund_count = 50 WHERE id = $1', [intent.id]);
    await expect(payments.refund(systemCtx, { intentId: intent.id, key: 'x', amountFen: 1, reason: 'x' })).rejects.toMatchObject({ code: 'refund_limit_reached' });
    await sql("UPDATE payment_intent SET refund_count = 0, paid_at = now() - interval '366 days' WHERE id = $1", [intent.id]);
    await expect(payments.refund(systemCtx, { intentId: intent.id, key: 'x', amountFen: 1, reason: 'x' })).rejects.toMatchObject({ code: 'refund_window_closed' });
    const unpaid = await payments.createIntent(systemCtx, { kind: 'fixture', key: randomUUID(), payerOpenid: m.mpOpenid, amountFen: 100, description: '测试', expiresAt: new Date(Date.now() + 60_000) });
    await expect(payments.refund(systemCtx, { intentId: unpaid.id, key: 'x', amountFen: 1, reason: 'x' })).rejects.toMatchObject({ code: 'payment_not_paid' });
    await expect(payments.refund(systemCtx, { intentId: intent.id, key: 'y', amountFen: 0, reason: 'x' })).rejects.toMatchObject({ code: 'refund_bad_amount' });
  });
});

describe('reconciliation', () => {
  it('a payment whose notification never came is settled by query, once; so is a refund whose notification was lost', async () => {
    const m = await k.member('dropped');
    const intent = await paidIntent(m, 900, { drop: true });
    expect(k.wxpay.notifications().find((d) => (d.resource as { out_trade_no?: string }).out_trade_no === intent.outTradeNo)).toMatchObject({ state: 'dropped' });
    expect((await payments.intent(systemCtx, intent.id)).state).toBe('pending');
    // Not yet its check time: nothing is asked.
    await payments.reconcile(systemCtx);
    expect((await payments.intent(systemCtx, intent.id)).state).toBe('pending');
    const later = new Date(Date.now() + 6 * 60_000);
    const swept = await payments.reconcile(systemCtx, later);
    expect(swept.intents.paid).toBeGreaterThanOrEqual(1);
    const paid = await payments.intent(systemCtx, intent.id);
    expect(paid).toMatchObject({ state: 'paid', transactionId: expect.stringMatching(/^\d+$/) });
    await payments.reconcile(systemCtx, later);
    expect(count(`paid:${intent.key}:${paid.transactionId}`)).toBe(1);

    expect((await k.t.sandbox('POST', '/pay/drop-notifications', { count: 1, eventType: 'REFUND.SUCCESS', outTradeNo: intent.outTradeNo })).status).toBe(200);
    const r = await payments.refund(systemCtx, { intentId: intent.id, key: 'lost', amountFen: 900, reason: '退款' });
    await payments.submitRefund(systemCtx, r.id);
    await waitFor('the sandbox to finish the refund', () => sandboxRefunds(intent.outTradeNo)[0]?.status === 'SUCCESS');
    expect((await refundRow(r.id)).state).toBe('processing');
    await payments.reconcile(systemCtx, new Date(Date.now() + 3 * 60_000));
    expect((await refundRow(r.id)).state).toBe('succeeded');
    expect(count('refund:lost:succeeded:900')).toBe(1);
  });

  it('an intent nobody paid is closed at WeChat once past its time, and its owner hears it once', async () => {
    const m = await k.member('unpaid');
    const intent = await payments.createIntent(systemCtx, { kind: 'fixture', key: randomUUID(), payerOpenid: m.mpOpenid, amountFen: 300, description: '测试', expiresAt: new Date(Date.now() + 60_000) });
    await payments.paymentParams(systemCtx, intent.id);
    await payments.reconcile(systemCtx, new Date(Date.now() + 2 * 60_000));
    expect(await payments.intent(systemCtx, intent.id)).toMatchObject({ state: 'closed', closeReason: 'expired' });
    expect(k.wxpay.queryOrder({ outTradeNo: intent.outTradeNo }, k.wxpay.keys.mchid).trade_state).toBe('CLOSED');
    await payments.reconcile(systemCtx, new Date(Date.now() + 3 * 60_000));
    expect(count(`closed:${intent.key}:expired`)).toBe(1);
  });
});
