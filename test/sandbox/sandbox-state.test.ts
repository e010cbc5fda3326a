import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { openSandboxState, type SandboxState } from '../../server/sandbox/sandbox-state';
import { PaySandbox } from '../../server/sandbox/pay/pay-sandbox';
import { sandboxSideKeys } from '../../server/sandbox/pay/pay-sandbox-keys';
import { SandboxWorld } from '../../server/sandbox/sandbox-world';
import { testPayKeys } from '../wechat/wxpay-helpers';
import { waitFor } from '../helpers/wait';

/** DATA_DIR/sandbox/state.jsonl: what the simulated WeChat keeps, and how it takes a kill, a torn line, a second owner. */
describe('the sandbox state file', () => {
  let dataDir: string;
  const warnings: string[] = [];
  const log = { warn: (_o: object, msg: string) => void warnings.push(msg), error: (_o: object, msg: string) => void warnings.push(msg) };
  const file = () => path.join(dataDir, 'sandbox', 'state.jsonl');
  const open = () => openSandboxState(dataDir, log);
  const lines = () => fs.readFileSync(file(), 'utf8').split('\n').filter(Boolean);

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-sandbox-state-'));
    warnings.length = 0;
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('gives back on the next open what was written: the last value of each record, without the removed ones, in first-written order', () => {
    const s = open();
    const value = { n: 1 };
    s.changed('thing', 'a', () => value);
    s.changed('thing', 'b', () => ({ n: 2 }));
    s.changed('thing', 'c', () => ({ n: 3 }));
    s.flush();
    value.n = 10; // read when written: the change after the flush is written by the next one
    s.changed('thing', 'a', () => value);
    s.changed('thing', 'b', () => undefined);
    s.changed('other', 'a', () => 'x');
    s.close();
    s.changed('thing', 'late', () => 1); // after close: not written, no error

    const again = open();
    expect(again.durable).toBe(true);
    expect(again.records('thing')).toEqual([
      ['a', { n: 10 }],
      ['c', { n: 3 }],
    ]);
    expect(again.records('other')).toEqual([['a', 'x']]);
    expect(again.records('none')).toEqual([]);
    again.close();
    expect(warnings).toEqual([]);
  });

  it('writes a record changed many times once per flush, and rewrites the file before it holds more than twice the live records', () => {
    const s = open();
    let n = 0;
    for (let i = 0; i < 50; i++) s.changed('counter', 'one', () => ++n);
    s.flush();
    expect(n).toBe(1);
    for (let i = 0; i < 5000; i++) {
      s.changed('counter', 'one', () => i);
      s.flush();
    }
    // 1 live record: the file is rewritten each time the appended lines pass 2 × 1 + 1000.
    expect(lines().length).toBeLessThanOrEqual(1 + 1003);
    s.close();
    const again = open();
    expect(again.records('counter')).toEqual([['one', 4999]]);
    again.close();
    expect(lines()).toEqual([lines()[0], JSON.stringify({ k: 'counter', id: 'one', v: 4999 })]); // opened: rewritten whole
  });

  it('skips a line torn by a kill, keeps the rest, and starts the file clean', () => {
    const s = open();
    s.changed('person', 'p1', () => ({ nickname: '阿明' }));
    s.changed('person', 'p2', () => ({ nickname: '小红' }));
    s.close();
    fs.appendFileSync(file(), '{"k":"person","id":"p3","v":{"nick');
    const again = open();
    expect(again.records('person')).toEqual([
      ['p1', { nickname: '阿明' }],
      ['p2', { nickname: '小红' }],
    ]);
    expect(warnings).toEqual(['sandbox state: unreadable lines skipped (a write cut short)']);
    again.changed('person', 'p3', () => ({ nickname: '老王' }));
    again.close();
    expect(lines().map((l) => JSON.parse(l))).toHaveLength(4); // header and three people, each line whole
  });

  it('refuses a file that is not a sandbox state rather than overwrite it', () => {
    fs.mkdirSync(path.dirname(file()), { recursive: true });
    fs.writeFileSync(file(), 'something else\n');
    expect(() => open().records('person')).toThrow(/not a sandbox state file/);
    expect(fs.readFileSync(file(), 'utf8')).toBe('something else\n');
  });

  it('a second process on the directory keeps its world in memory and says so; the owner’s file is untouched', () => {
    const s = open();
    s.changed('person', 'p1', () => ({ nickname: '阿明' }));
    s.close();
    const before = fs.readFileSync(file(), 'utf8');
    // The lock of a live process that is not this one (the test runner's parent).
    fs.writeFileSync(path.join(dataDir, 'sandbox', 'snowball.lock'), JSON.stringify({ pid: process.ppid, role: 'sandbox', startedAt: new Date().toISOString() }));
    const second = open();
    expect(second.durable).toBe(false);
    expect(second.records('person')).toEqual([]);
    second.changed('person', 'p2', () => ({}));
    second.close();
    expect(fs.readFileSync(file(), 'utf8')).toBe(before);
    expect(warnings).toEqual(['the sandbox state is kept by another process: this sandbox keeps its world in memory only']);
  });

  it('a second app of this process on the directory, while the first runs, keeps its world in memory', () => {
    const first = open();
    first.changed('person', 'p1', () => ({ nickname: '阿明' }));
    const second = open();
    expect(second.durable).toBe(false);
    second.close();
    first.close();
    const third = open();
    expect(third.records('person')).toEqual([['p1', { nickname: '阿明' }]]);
    third.close();
    expect(warnings).toEqual(['the sandbox state is kept by another app of this process: this sandbox keeps its world in memory only']);
  });

  it('a process killed (SIGKILL) while writing leaves a file that opens, with everything it had flushed', async () => {
    const script = path.join(dataDir, 'writer.ts');
    fs.writeFileSync(
      script,
      `import { openSandboxState } from ${JSON.stringify(path.resolve('server/sandbox/sandbox-state.ts'))};
const s = openSandboxState(${JSON.stringify(dataDir)}, console);
let i = 0;
const pad = 'x'.repeat(2000);
const tick = () => {
  for (let j = 0; j < 50; j++, i++) { const v = { i, pad }; s.changed('n', String(i % 200), () => v); }
  s.flush();
  process.stdout.write(i + '\\n');
  setImmediate(tick);
};
tick();
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let flushed = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      const last = chunk.toString().trim().split('\n').pop();
      if (last) flushed = Number(last);
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor('the writer to flush 20,000 changes', () => flushed >= 20_000);
    child.kill('SIGKILL');
    await exited;
    const reported = flushed;
    // Appends only: whatever the kill cut short is the last line alone.
    const rows = fs.readFileSync(file(), 'utf8').split('\n');
    const unreadable = rows.filter((r) => {
      try {
        JSON.parse(r);
        return false;
      } catch {
        return true;
      }
    });
    expect(unreadable.length).toBeLessThanOrEqual(1);
    if (unreadable.length) expect(unreadable[0]).toBe(rows[rows.length - 1]);

    const s = open(); // the dead writer's lock is stale: taken over
    expect(s.durable).toBe(true);
    const records = s.records<{ i: number }>('n');
    expect(records).toHaveLength(200);
    // Every record holds at least what was flushed before the last report (each key is rewritten every 200 changes).
    for (const [key, v] of records) expect(v.i % 200).toBe(Number(key));
    expect(Math.max(...records.map(([, v]) => v.i))).toBeGreaterThanOrEqual(reported - 1);
    s.close();
  });
});

describe('WeChat Pay in the sandbox, stopped and started on the same state', () => {
  let dataDir: string;
  const log = { warn: () => undefined, error: () => undefined };
  const keys = sandboxSideKeys(testPayKeys());
  const APPID = 'wx1234567890abcdef';
  const OPENID = 'oMp_restart_payer';
  let states: SandboxState[] = [];
  let sandboxes: PaySandbox[] = [];
  const start = (timeScale: number, refundSeconds?: number) => {
    const state = openSandboxState(dataDir, log);
    const sandbox = new PaySandbox({ keys, timeScale, refundSeconds, state });
    states.push(state);
    sandboxes.push(sandbox);
    return { state, sandbox };
  };
  const stop = ({ state, sandbox }: { state: SandboxState; sandbox: PaySandbox }) => {
    sandbox.close();
    state.close();
  };

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-pay-state-'));
  });
  afterEach(() => {
    for (const s of sandboxes) s.close();
    for (const s of states) s.close();
    sandboxes = [];
    states = [];
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a notification the merchant refused before the stop is delivered after it, on its schedule, as the same event', async () => {
    const answers = [500];
    const received: Array<{ at: number; id: string }> = [];
    const merchant = Fastify({ logger: false });
    merchant.post('/notify', async (req, reply) => {
      received.push({ at: Date.now(), id: (req.body as { id: string }).id });
      return reply.code(answers.shift() ?? 204).send();
    });
    await merchant.listen({ port: 0, host: '127.0.0.1' });
    try {
      const notifyUrl = `http://127.0.0.1:${(merchant.server.address() as net.AddressInfo).port}/notify`;
      // timeScale 0.1: the first retry waits 1.5 s, long enough to stop and start again in between.
      const first = start(0.1);
      const { prepay_id } = first.sandbox.createJsapiOrder({ appid: APPID, mchid: keys.mchid, description: '岩茶', out_trade_no: 'RESTART0001', notify_url: notifyUrl, amount: { total: 8800 }, payer: { openid: OPENID } });
      await first.sandbox.pay(prepay_id, OPENID);
      await waitFor('the first attempt', () => first.sandbox.notifications()[0]?.attempts.length === 1);
      stop(first);

      const second = start(0.1);
      const [pending] = second.sandbox.notifications();
      expect(pending).toMatchObject({ eventType: 'TRANSACTION.SUCCESS', state: 'pending', attempts: [{ status: 500 }] });
      expect(second.sandbox.queryOrder({ outTradeNo: 'RESTART0001' }, keys.mchid)).toMatchObject({ trade_state: 'SUCCESS', transaction_id: expect.any(String) });
      second.sandbox.resume();
      const done = await second.sandbox.settled(pending!.id);
      expect(done.state).toBe('acknowledged');
      expect(done.attempts.map((a) => a.status)).toEqual([500, 204]);
      expect(received.map((r) => r.id)).toEqual([pending!.id, pending!.id]);
      expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(1_400); // WeChat's 15 s (× 0.1), not at once
    } finally {
      await merchant.close();
    }
  });

  it('a transfer waiting for confirmation is withdrawn after its 24 hours even across a stop; a refund processing at the stop succeeds after it', async () => {
    // timeScale 1e-5: 24 h is 864 ms; a refund of 50,000 s is 500 ms.
    const first = start(1e-5, 50_000);
    const bill = first.sandbox.createTransferBill({ appid: APPID, out_bill_no: 'BILLRESTART1', transfer_scene_id: '1005', openid: OPENID, transfer_amount: 500, transfer_remark: '晒单返现' });
    expect(bill.state).toBe('WAIT_USER_CONFIRM');
    const { prepay_id } = first.sandbox.createJsapiOrder({ appid: APPID, mchid: keys.mchid, description: '岩茶', out_trade_no: 'RESTART0002', notify_url: 'http://127.0.0.1:9/notify', amount: { total: 8800 }, payer: { openid: OPENID } });
    await first.sandbox.pay(prepay_id, OPENID);
    const refund = first.sandbox.createRefund({ out_trade_no: 'RESTART0002', out_refund_no: 'RRESTART0002', amount: { refund: 3000, total: 8800, currency: 'CNY' } });
    expect(refund.status).toBe('PROCESSING');
    stop(first);
    await new Promise((r) => setTimeout(r, 1_000));
    const second = start(1e-5, 50_000);
    expect(second.sandbox.queryTransferBill('BILLRESTART1').state).toBe('WAIT_USER_CONFIRM');
    expect(second.sandbox.queryRefund('RRESTART0002').status).toBe('PROCESSING');
    second.sandbox.resume();
    await waitFor('the bill withdrawn', () => second.sandbox.queryTransferBill('BILLRESTART1').state === 'CANCELLED');
    expect(second.sandbox.queryTransferBill('BILLRESTART1').fail_reason).toBe('用户未在24小时内确认收款');
    await waitFor('the refund done', () => second.sandbox.queryRefund('RRESTART0002').status === 'SUCCESS');
    // What was refunded stays refunded: the rest can be refunded, no more.
    expect(() => second.sandbox.createRefund({ out_trade_no: 'RESTART0002', out_refund_no: 'RRESTART0003', amount: { refund: 5801, total: 8800, currency: 'CNY' } })).toThrow('超过');
  });
});

describe('the simulated WeChat, built again on its state', () => {
  it('has the same original id, people, follows, tags, tokens and unused login codes', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-world-state-'));
    const log = { warn: () => undefined, error: () => undefined };
    const oa = { appid: 'wxoa', secret: 'oa-secret' };
    const mp = { appid: 'wxmp', secret: 'mp-secret' };
    try {
      const s1 = openSandboxState(dataDir, log);
      const w1 = new SandboxWorld(oa, mp, s1);
      const a = w1.createPerson('阿明');
      w1.follow(a);
      const tag = w1.createTag('老客');
      w1.tagging([a.oaOpenid], tag.id, true);
      w1.acceptSubscription(a, 'mp', 'TPL1');
      const token = w1.issueToken({ grant_type: 'client_credential', appid: 'wxoa', secret: 'oa-secret' }).access_token;
      const code = w1.loginCode(a);
      w1.setQuota('mass_send', 7);
      s1.close();

      const s2 = openSandboxState(dataDir, log);
      const w2 = new SandboxWorld(oa, mp, s2);
      expect(w2.originalId).toBe(w1.originalId);
      const b = w2.byOaOpenid(a.oaOpenid)!;
      expect(b).toMatchObject({ id: a.id, nickname: '阿明', mpOpenid: a.mpOpenid, unionid: a.unionid, following: true });
      expect([...b.tagIds]).toEqual([tag.id]);
      expect(b.windows).toEqual(a.windows);
      expect(w2.authenticate(token, 'oa')).toBe('oa');
      expect(w2.redeemLoginCode(code).id).toBe(a.id);
      expect(() => w2.redeemLoginCode(code)).toThrow('40163');
      expect(w2.quotas.mass_send).toBe(7);
      w2.useAcceptance(b, 'mp', 'TPL1');
      expect(() => w2.useAcceptance(b, 'mp', 'TPL1')).toThrow('43101');
      expect(w2.createTag('新客').id).toBe(tag.id + 1);
      s2.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
