// A scripted stand-in for the wx global: storage in memory, wx.login codes, wx.request answered by a handler.
// Every reply a handler gives is checked against the server's OpenAPI document (route, status, body schema): a stand-in
// that drifts from what the server answers fails the test that used it.
import type { MemberCard } from '../../../miniprogram/src/models/api-types';
import { openapiMismatch } from './openapi-check';

const mismatches: string[] = [];
afterEach(() => {
  const found = mismatches.splice(0);
  expect(found).toEqual([]);
});

export interface SentRequest {
  url: string;
  method: string;
  data: unknown;
  header: Record<string, string>;
}

export interface FakeReply {
  status: number;
  body?: unknown;
}

// 'network_error' and 'timeout' fail the request the way wx.request does (errMsg request:fail / request:fail timeout).
export type FailedReply = 'network_error' | 'timeout';
export type RequestHandler = (req: SentRequest) => FakeReply | Promise<FakeReply> | FailedReply;

export interface FakeWx {
  wx: WechatMiniprogram.Wx;
  requests: SentRequest[];
  storage: Map<string, unknown>;
  loginCodes: string[];
  toasts: string[];
  navigations: string[];
  modals: string[];
  // Answer of the next wx.showModal calls (true = 确定).
  modalAnswer: boolean;
  paymentResult: 'ok' | 'cancel' | 'fail';
  payments: unknown[];
  subscribeAnswer: 'accept' | 'reject';
  setHandler(handler: RequestHandler): void;
}

export interface FakeWxOptions {
  /** false only for tests of the request layer itself, answering made-up routes and bodies on purpose. */
  schemaCheck?: boolean;
}

export function createFakeWx(handler: RequestHandler = () => ({ status: 200, body: {} }), options: FakeWxOptions = {}): FakeWx {
  const storage = new Map<string, unknown>();
  const requests: SentRequest[] = [];
  const loginCodes: string[] = [];
  const toasts: string[] = [];
  const navigations: string[] = [];
  const modals: string[] = [];
  const payments: unknown[] = [];
  let current = handler;
  let codeCounter = 0;

  const fake = {
    getStorageSync: (key: string) => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key: string, value: unknown) => void storage.set(key, JSON.parse(JSON.stringify(value))),
    removeStorageSync: (key: string) => void storage.delete(key),
    login: (opts: { success?: (res: { code: string }) => void }) => {
      codeCounter += 1;
      const code = `code-${codeCounter}`;
      loginCodes.push(code);
      setTimeout(() => opts.success?.({ code }), 0);
    },
    request: (opts: {
      url: string;
      method?: string;
      data?: unknown;
      header?: Record<string, string>;
      success?: (res: { statusCode: number; data: unknown }) => void;
      fail?: (err: { errMsg: string }) => void;
    }) => {
      const sent: SentRequest = { url: opts.url, method: opts.method ?? 'GET', data: opts.data, header: { ...(opts.header ?? {}) } };
      requests.push(sent);
      setTimeout(async () => {
        const reply = await current(sent);
        if (reply !== 'network_error' && reply !== 'timeout' && options.schemaCheck !== false) {
          const mismatch = openapiMismatch(sent.method, sent.url, reply.status, reply.body);
          if (mismatch) mismatches.push(mismatch);
        }
        if (reply === 'network_error') opts.fail?.({ errMsg: 'request:fail' });
        else if (reply === 'timeout') opts.fail?.({ errMsg: 'request:fail timeout' });
        else opts.success?.({ statusCode: reply.status, data: reply.body ?? '' });
      }, 0);
      return { abort: () => undefined };
    },
    showToast: (opts: { title: string }) => void toasts.push(opts.title),
    showModal: (opts: { content?: string; success?: (res: { confirm: boolean; cancel: boolean }) => void }) => {
      modals.push(opts.content ?? '');
      setTimeout(() => opts.success?.({ confirm: result.modalAnswer, cancel: !result.modalAnswer }), 0);
    },
    navigateTo: (opts: { url: string }) => void navigations.push(opts.url),
    redirectTo: (opts: { url: string }) => void navigations.push(opts.url),
    switchTab: (opts: { url: string }) => void navigations.push(opts.url),
    reLaunch: (opts: { url: string }) => void navigations.push(opts.url),
    navigateBack: () => void navigations.push('back'),
    stopPullDownRefresh: () => undefined,
    requestPayment: (opts: Record<string, unknown> & { success?: () => void; fail?: (e: { errMsg: string }) => void }) => {
      const { success, fail, ...params } = opts;
      payments.push(params);
      setTimeout(() => {
        if (result.paymentResult === 'ok') success?.();
        else fail?.({ errMsg: result.paymentResult === 'cancel' ? 'requestPayment:fail cancel' : 'requestPayment:fail' });
      }, 0);
    },
    requestSubscribeMessage: (opts: { tmplIds: string[]; success?: (res: Record<string, string>) => void }) => {
      const res: Record<string, string> = { errMsg: 'requestSubscribeMessage:ok' };
      opts.tmplIds.forEach((id) => (res[id] = result.subscribeAnswer));
      setTimeout(() => opts.success?.(res), 0);
    },
    openPrivacyContract: () => undefined,
    showShareMenu: () => undefined,
    setNavigationBarTitle: () => undefined,
    setClipboardData: () => undefined,
  };

  const result: FakeWx = {
    wx: fake as unknown as WechatMiniprogram.Wx,
    requests,
    storage,
    loginCodes,
    toasts,
    navigations,
    modals,
    modalAnswer: true,
    paymentResult: 'ok',
    payments,
    subscribeAnswer: 'accept',
    setHandler: (next) => {
      current = next;
    },
  };
  return result;
}

export function installFakeWx(fake: FakeWx): void {
  // Merged into an existing wx so that miniprogram-simulate's own polyfills stay in place.
  const holder = globalThis as unknown as { wx?: WechatMiniprogram.Wx };
  holder.wx = Object.assign(holder.wx ?? {}, fake.wx) as WechatMiniprogram.Wx;
}

// The card as GET /api/mp/me answers it (openapi-stand-ins.test.ts compares it with the server's): a UUID id.
export const sampleMember: MemberCard = {
  id: '3f0c2a1e-7b4d-4c8e-9a55-2d1f6b7e1001',
  nickname: '小雪',
  avatarUrl: null,
  tier: { code: 'gold', name: '金卡会员', perks: { freeShipping: true, discountPercent: 5, pointsMultiplier: 2, birthdayGift: true } },
  pointsBalance: 1280,
  expiringPoints: { points: 200, expiresAt: '2026-12-31T15:59:59.000Z' },
  taobaoBuyer: { nickMasked: 't**3', channelName: '天猫旗舰店', ordersCount: 4 },
  memberCode: '3024186573',
};

export function loginReply(token: string, accepted = true): FakeReply {
  return {
    status: 200,
    body: {
      token,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      member: sampleMember,
      privacy: { version: '2026-11', accepted },
    },
  };
}

export type Route = (req: SentRequest, query: URLSearchParams) => FakeReply | FailedReply;

// Routes by "METHOD /path" (query string aside); login is answered for every test.
export function routes(table: Record<string, Route>): RequestHandler {
  return (req) => {
    const url = new URL(req.url);
    if (url.pathname === '/api/mp/login') return loginReply('tok');
    const route = table[`${req.method} ${url.pathname}`];
    if (!route) return { status: 404, body: { code: 'not_found', message: `no route ${req.method} ${url.pathname}` } };
    return route(req, url.searchParams);
  };
}
