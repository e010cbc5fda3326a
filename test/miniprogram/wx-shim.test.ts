import Fastify, { type FastifyInstance } from 'fastify';
import { createWxShim, type WxShim } from './helpers/wx-shim';
import { config } from '../../miniprogram/src/config';
import { ApiError, request } from '../../miniprogram/src/services/request';
import { checkIn, fetchCheckInMonth } from '../../miniprogram/src/services/check-in.service';
import { acceptPrivacy } from '../../miniprogram/src/services/privacy.service';
import { placeOrder, requestPayment } from '../../miniprogram/src/services/order.service';
import { deleteAddress } from '../../miniprogram/src/services/address.service';

// A tiny stand-in server with the contract's session rules: enough to prove the shim speaks real HTTP.
let server: FastifyInstance;
let baseUrl: string;
const originalBaseUrl = config.apiBaseUrl;
const seenCodes: string[] = [];
const tokens = new Map<string, { expired: boolean }>();
const idempotent = new Map<string, unknown>();
const writes: { path: string; key: string | undefined; auth: string | undefined }[] = [];
let checkIns = 0;
let expireNextToken = false;
const deleted: string[] = [];

beforeAll(async () => {
  server = Fastify();
  server.post('/api/mp/login', async (req) => {
    const { code } = req.body as { code: string };
    seenCodes.push(code);
    const token = `t-${seenCodes.length}`;
    tokens.set(token, { expired: expireNextToken });
    expireNextToken = false;
    return { token, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), member: {}, privacy: { version: 'v3', accepted: false } };
  });
  server.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'GET') writes.push({ path: req.url, key: req.headers['idempotency-key'] as string | undefined, auth: req.headers.authorization });
    if (req.url === '/api/mp/login' || req.url.startsWith('/slow')) return;
    const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
    const session = tokens.get(token);
    if (!session) return reply.code(401).send({ code: 'invalid_session', message: 'invalid' });
    if (session.expired) return reply.code(401).send({ code: 'session_expired', message: 'expired' });
  });
  server.get('/api/mp/check-ins', async (req) => ({ month: (req.query as { month: string }).month, days: [] }));
  server.post('/api/mp/check-ins', async (req, reply) => {
    const key = req.headers['idempotency-key'] as string | undefined;
    if (key && idempotent.has(key)) return idempotent.get(key);
    if (checkIns >= 1) return reply.code(409).send({ code: 'already_checked_in', message: 'already' });
    checkIns += 1;
    const result = { date: '2026-11-23', streak: 1, reward: { points: 5, couponName: null }, pointsBalance: 5 };
    if (key) idempotent.set(key, result);
    return result;
  });
  server.post('/api/mp/privacy/accept', async (_req, reply) => {
    return reply.code(204).send();
  });
  server.post('/api/mp/orders', async (req, reply) => {
    const body = req.body as { items: unknown[]; addressId: string; pointsToUse: number };
    return reply.code(201).send({
      order: { id: '42', orderNo: 'SB42', status: 'pending_payment', pointsUsed: body.pointsToUse },
      payment: { timeStamp: '1795000000', nonceStr: 'abc', package: 'prepay_id=wx42', signType: 'RSA', paySign: 'sig' },
    });
  });
  server.delete('/api/mp/addresses/:id', async (req, reply) => {
    deleted.push((req.params as { id: string }).id);
    return reply.code(204).send();
  });
  server.get('/slow', async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { late: true };
  });
  baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  config.apiBaseUrl = originalBaseUrl;
  await server.close();
});

let shim: WxShim;
let paid: unknown[];

beforeEach(() => {
  config.apiBaseUrl = baseUrl;
  paid = [];
  shim = createWxShim({ pay: (payment) => void paid.push(payment) });
  shim.install();
});

afterEach(() => shim.uninstall());

describe('wx shim over real HTTP', () => {
  it('runs the request wrapper against a server: login, bearer token, query string', async () => {
    const month = await fetchCheckInMonth('2026-11');
    expect(month).toEqual({ month: '2026-11', days: [] });
    expect(seenCodes.at(-1)).toMatch(/^shim-code-\d+$/);
    expect(shim.requests.map((r) => `${r.method} ${new URL(r.url).pathname} ${r.status}`)).toEqual([
      'POST /api/mp/login 200',
      'GET /api/mp/check-ins 200',
    ]);
    expect(shim.storage.get('snowball.privacy')).toEqual({ version: 'v3', accepted: false });
  });

  it('re-logs in on session_expired and the server sees the same idempotency key twice, applying it once', async () => {
    expireNextToken = true;
    const result = await checkIn();
    expect(result.streak).toBe(1);
    const checkInWrites = writes.filter((w) => w.path === '/api/mp/check-ins');
    expect(checkInWrites).toHaveLength(2);
    expect(checkInWrites[0].key).toBeTruthy();
    expect(checkInWrites[1].key).toBe(checkInWrites[0].key);
    expect(checkInWrites[1].auth).not.toBe(checkInWrites[0].auth);
    expect(checkIns).toBe(1);

    const again = await checkIn().catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ApiError);
    expect(again).toMatchObject({ code: 'already_checked_in', status: 409, message: '今天已经签到过了，明天再来吧' });
  });

  it('handles 204 answers, and a DELETE passes the server\'s JSON body check', async () => {
    await expect(deleteAddress('a-7')).resolves.toBeUndefined();
    expect(deleted).toEqual(['a-7']);
    await expect(acceptPrivacy('v3')).resolves.toBeUndefined();
    expect(shim.storage.get('snowball.privacy')).toEqual({ version: 'v3', accepted: true });
  });

  it('places an order and hands the signed parameters to the payment step', async () => {
    const { order, payment } = await placeOrder({ items: [{ skuId: 's', quantity: 1 }], addressId: 'a', pointsToUse: 10 });
    expect(order.id).toBe('42');
    await expect(requestPayment(payment)).resolves.toBe('paid');
    expect(paid).toEqual([{ timeStamp: '1795000000', nonceStr: 'abc', package: 'prepay_id=wx42', signType: 'RSA', paySign: 'sig' }]);
  });

  it('reports a payment the member did not finish as cancelled', async () => {
    shim.uninstall();
    shim = createWxShim();
    shim.install();
    const { payment } = await placeOrder({ items: [{ skuId: 's', quantity: 1 }], addressId: 'a', pointsToUse: 0 });
    await expect(requestPayment(payment)).resolves.toBe('cancelled');
  });

  it('fails like wx.request when nothing listens', async () => {
    config.apiBaseUrl = 'http://127.0.0.1:9';
    await expect(request('/api/mp/me')).rejects.toMatchObject({ code: 'network_error' });
  });

  it('times out like wx.request and puts GET data in the query string', async () => {
    const wx = shim.wx as { request: (o: Record<string, unknown>) => void };
    const timedOut = await new Promise<{ errMsg: string }>((resolve) => {
      wx.request({ url: `${baseUrl}/slow`, timeout: 100, success: () => resolve({ errMsg: 'ok' }), fail: resolve });
    });
    expect(timedOut.errMsg).toBe('request:fail timeout');

    const token = [...tokens.keys()][0];
    const res = await new Promise<{ statusCode: number; data: unknown }>((resolve, reject) => {
      wx.request({ url: `${baseUrl}/api/mp/check-ins`, data: { month: '2026-10' }, header: { Authorization: `Bearer ${token}` }, success: resolve, fail: reject });
    });
    expect(res).toMatchObject({ statusCode: 200, data: { month: '2026-10' } });
  });
});
