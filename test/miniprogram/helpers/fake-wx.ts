// A scripted stand-in for the wx global: storage in memory, wx.login codes, wx.request answered by a handler.

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

export type RequestHandler = (req: SentRequest) => FakeReply | Promise<FakeReply> | 'network_error';

export interface FakeWx {
  wx: WechatMiniprogram.Wx;
  requests: SentRequest[];
  storage: Map<string, unknown>;
  loginCodes: string[];
  toasts: string[];
  setHandler(handler: RequestHandler): void;
}

export function createFakeWx(handler: RequestHandler = () => ({ status: 200, body: {} })): FakeWx {
  const storage = new Map<string, unknown>();
  const requests: SentRequest[] = [];
  const loginCodes: string[] = [];
  const toasts: string[] = [];
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
        if (reply === 'network_error') opts.fail?.({ errMsg: 'request:fail' });
        else opts.success?.({ statusCode: reply.status, data: reply.body ?? '' });
      }, 0);
      return { abort: () => undefined };
    },
    showToast: (opts: { title: string }) => void toasts.push(opts.title),
  };

  return {
    wx: fake as unknown as WechatMiniprogram.Wx,
    requests,
    storage,
    loginCodes,
    toasts,
    setHandler: (next) => {
      current = next;
    },
  };
}

export function installFakeWx(fake: FakeWx): void {
  (globalThis as unknown as { wx: WechatMiniprogram.Wx }).wx = fake.wx;
}

export const sampleMember = {
  id: '1001',
  nickname: '小雪',
  avatarUrl: null,
  tier: { code: 'gold', name: '金卡会员', perks: { freeShipping: true, discountPercent: 5, pointsMultiplier: 2, birthdayGift: true } },
  pointsBalance: 1280,
  expiringPoints: { points: 200, expiresAt: '2026-12-31T15:59:59.000Z' },
  taobaoBuyer: { nickMasked: 't**3', channelName: '天猫旗舰店', ordersCount: 4 },
  memberCode: 'SB1001X7K2',
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
