// A `wx` for node: wx.request goes over real HTTP (fetch), so the mini-program's own request wrapper and services
// can run against a real server. Storage lives in memory; login codes, payment and subscription answers are
// supplied by the test (for a journey: a sandbox code2session code and the sandbox's pay step).

export interface ShimPayment {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
}

export interface WxShimOptions {
  // The code wx.login returns; a journey test asks the WeChat sandbox for one.
  loginCode?: () => string | Promise<string>;
  // Completes a payment the way the member's WeChat would; throwing means the payment failed.
  pay?: (payment: ShimPayment) => void | Promise<void>;
  subscribeAnswer?: 'accept' | 'reject';
  modalAnswer?: boolean;
}

interface Callbacks<T> {
  success?: (res: T) => void;
  fail?: (err: { errMsg: string }) => void;
  complete?: (res: T | { errMsg: string }) => void;
}

interface ShimRequestOptions extends Callbacks<{ statusCode: number; data: unknown; header: Record<string, string>; errMsg: string }> {
  url: string;
  method?: string;
  data?: unknown;
  header?: Record<string, string>;
  timeout?: number;
  dataType?: string;
}

export interface WxShim {
  readonly wx: Record<string, unknown>;
  readonly storage: Map<string, unknown>;
  readonly toasts: string[];
  readonly navigations: string[];
  readonly requests: { method: string; url: string; status: number }[];
  install(): void;
  uninstall(): void;
}

function settle<T>(cb: Callbacks<T>, outcome: { ok: true; res: T } | { ok: false; errMsg: string }): void {
  if (outcome.ok) {
    cb.success?.(outcome.res);
    cb.complete?.(outcome.res);
  } else {
    cb.fail?.({ errMsg: outcome.errMsg });
    cb.complete?.({ errMsg: outcome.errMsg });
  }
}

// wx.request puts GET data in the query string, as the real client does.
function withQuery(url: string, data: unknown): string {
  if (!data || typeof data !== 'object') return url;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (value !== undefined && value !== null) params.append(key, String(value));
  }
  const query = params.toString();
  if (!query) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

export function createWxShim(options: WxShimOptions = {}): WxShim {
  const storage = new Map<string, unknown>();
  const toasts: string[] = [];
  const navigations: string[] = [];
  const requests: { method: string; url: string; status: number }[] = [];
  let loginCounter = 0;
  let previous: unknown;

  const request = (opts: ShimRequestOptions) => {
    const controller = new AbortController();
    const method = (opts.method ?? 'GET').toUpperCase();
    // Like wx.request: content-type defaults to JSON, on every method.
    const headers: Record<string, string> = { ...(opts.header ?? {}) };
    if (!Object.keys(headers).some((key) => key.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const hasBody = method !== 'GET' && method !== 'HEAD' && opts.data !== undefined;
    const url = method === 'GET' ? withQuery(opts.url, opts.data) : opts.url;
    const timer = setTimeout(() => controller.abort(new Error('timeout')), opts.timeout ?? 60_000);
    const body = hasBody ? (typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data)) : undefined;
    fetch(url, { method, headers, body, signal: controller.signal })
      .then(async (response) => {
        const text = await response.text();
        let data: unknown = text;
        if (opts.dataType !== 'text' && text) {
          try {
            data = JSON.parse(text);
          } catch {
            data = text;
          }
        }
        const header: Record<string, string> = {};
        response.headers.forEach((value, key) => (header[key] = value));
        requests.push({ method, url, status: response.status });
        settle(opts, { ok: true, res: { statusCode: response.status, data, header, errMsg: 'request:ok' } });
      })
      .catch((err: unknown) => {
        const timedOut = controller.signal.aborted && (controller.signal.reason as Error | undefined)?.message === 'timeout';
        settle(opts, { ok: false, errMsg: timedOut ? 'request:fail timeout' : `request:fail ${(err as Error).message}` });
      })
      .finally(() => clearTimeout(timer));
    return { abort: () => controller.abort(new Error('abort')) };
  };

  const wx: Record<string, unknown> = {
    request,
    login: (opts: Callbacks<{ code: string; errMsg: string }>) => {
      Promise.resolve(options.loginCode ? options.loginCode() : `shim-code-${++loginCounter}`)
        .then((code) => settle(opts, { ok: true, res: { code, errMsg: 'login:ok' } }))
        .catch((err: Error) => settle(opts, { ok: false, errMsg: `login:fail ${err.message}` }));
    },
    getStorageSync: (key: string) => (storage.has(key) ? structuredClone(storage.get(key)) : ''),
    setStorageSync: (key: string, value: unknown) => void storage.set(key, structuredClone(value)),
    removeStorageSync: (key: string) => void storage.delete(key),
    clearStorageSync: () => storage.clear(),
    requestPayment: (opts: ShimPayment & Callbacks<{ errMsg: string }>) => {
      const { timeStamp, nonceStr, package: pkg, signType, paySign } = opts;
      Promise.resolve(options.pay ? options.pay({ timeStamp, nonceStr, package: pkg, signType, paySign }) : Promise.reject(new Error('cancel')))
        .then(() => settle(opts, { ok: true, res: { errMsg: 'requestPayment:ok' } }))
        .catch((err: Error) => settle(opts, { ok: false, errMsg: `requestPayment:fail ${err.message}` }));
    },
    requestSubscribeMessage: (opts: { tmplIds: string[] } & Callbacks<Record<string, string>>) => {
      const res: Record<string, string> = { errMsg: 'requestSubscribeMessage:ok' };
      for (const id of opts.tmplIds) res[id] = options.subscribeAnswer ?? 'accept';
      setTimeout(() => settle(opts, { ok: true, res }), 0);
    },
    showToast: (opts: { title: string }) => void toasts.push(opts.title),
    showModal: (opts: Callbacks<{ confirm: boolean; cancel: boolean; errMsg: string }>) => {
      const confirm = options.modalAnswer ?? true;
      setTimeout(() => settle(opts, { ok: true, res: { confirm, cancel: !confirm, errMsg: 'showModal:ok' } }), 0);
    },
    navigateTo: (opts: { url: string }) => void navigations.push(opts.url),
    redirectTo: (opts: { url: string }) => void navigations.push(opts.url),
    switchTab: (opts: { url: string }) => void navigations.push(opts.url),
    reLaunch: (opts: { url: string }) => void navigations.push(opts.url),
    navigateBack: () => void navigations.push('back'),
    stopPullDownRefresh: () => undefined,
    showShareMenu: () => undefined,
    setNavigationBarTitle: () => undefined,
    setClipboardData: (opts: Callbacks<{ errMsg: string }>) => settle(opts, { ok: true, res: { errMsg: 'setClipboardData:ok' } }),
    openPrivacyContract: () => undefined,
  };

  const holder = globalThis as unknown as { wx?: unknown };
  return {
    wx,
    storage,
    toasts,
    navigations,
    requests,
    install() {
      previous = holder.wx;
      holder.wx = wx;
    },
    uninstall() {
      holder.wx = previous;
    },
  };
}
