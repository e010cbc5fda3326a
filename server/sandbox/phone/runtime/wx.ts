// The `wx` of the browser phone: one sandbox person. wx.login asks the sandbox for that person's code, wx.request
// reaches this server, wx.requestPayment pays through the sandbox's WeChat Pay after a confirm sheet,
// wx.chooseAddress offers addresses, subscriptions are accepted in the sandbox, navigation drives the page stack.
import { el, type Layers } from './ui';

export interface PhoneRouter {
  navigateTo(url: string): Promise<void>;
  redirectTo(url: string): Promise<void>;
  switchTab(url: string): Promise<void>;
  reLaunch(url: string): Promise<void>;
  navigateBack(delta?: number): Promise<void>;
  setTitle(text: string): void;
  current(): { route: string; comp: { instance: Record<string, unknown> } } | undefined;
}

export interface PhoneHost {
  personId: string;
  /** Where the sandbox is mounted (/sandbox): its control API is at `${sandboxBase}/api`. */
  sandboxBase: string;
  layers: Layers;
  router: PhoneRouter;
  appJson: unknown;
  /** A tap on <button open-type="…"> (share); set by createWx. */
  openType(button: HTMLElement, type: string): Promise<void>;
  /** The privacy button was tapped: WeChat's pending authorization is agreed. */
  agreePrivacy(): void;
  stopRefresh(): void;
}

type Opts = Record<string, unknown> & { success?: (res: unknown) => void; fail?: (err: unknown) => void; complete?: (res: unknown) => void };

/** WeChat's calling convention: callbacks when given, else a promise. */
function api<R extends Record<string, unknown>>(name: string, run: (o: Opts) => Promise<R> | R) {
  return (o: Opts = {}) => {
    const p = Promise.resolve()
      .then(() => run(o))
      .then((res) => ({ errMsg: `${name}:ok`, ...res }));
    if (!o.success && !o.fail && !o.complete) return p.catch((err: Error) => Promise.reject({ errMsg: err.message.startsWith(`${name}:fail`) ? err.message : `${name}:fail ${err.message}` }));
    p.then(
      (res) => {
        o.success?.(res);
        o.complete?.(res);
      },
      (err: Error) => {
        const e = { errMsg: err.message.startsWith(`${name}:fail`) ? err.message : `${name}:fail ${err.message}` };
        o.fail?.(e);
        o.complete?.(e);
      },
    );
    return undefined;
  };
}

const SAMPLE_ADDRESSES = [
  { provinceName: '上海市', cityName: '上海市', countyName: '浦东新区', detailInfo: '世纪大道 100 号 8 楼', postalCode: '200120', nationalCode: '310115', telNumber: '13800138000' },
  { provinceName: '浙江省', cityName: '杭州市', countyName: '西湖区', detailInfo: '文三路 90 号 2 单元 301', postalCode: '310012', nationalCode: '330106', telNumber: '13900139000' },
];

export function createWx(host: PhoneHost): Record<string, unknown> {
  const { layers, router } = host;
  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${host.sandboxBase}/api/people/${encodeURIComponent(host.personId)}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = (await res.json().catch(() => ({}))) as T & { message?: string };
    if (!res.ok) throw new Error(data.message || `HTTP ${res.status}`);
    return data;
  };
  const storageKey = (key: string) => `snowball-phone:${host.personId}:${key}`;
  const privacyKey = storageKey('__privacy_agreed__');
  let privacyListener: ((resolve: (r: { event: string; buttonId?: string }) => void) => void) | null = null;
  let pendingPrivacy: Array<(agreed: boolean) => void> = [];
  const privacyAgreed = () => localStorage.getItem(privacyKey) === '1';
  host.agreePrivacy = () => {
    localStorage.setItem(privacyKey, '1');
  };

  /** WeChat's check before a privacy API: the mini-program's own popup answers (onNeedPrivacyAuthorization). */
  const needPrivacy = async (apiName: string) => {
    if (privacyAgreed() || !privacyListener) return;
    const agreed = await new Promise<boolean>((resolve) => {
      pendingPrivacy.push(resolve);
      privacyListener!((r) => {
        if (r.event === 'agree') localStorage.setItem(privacyKey, '1');
        const waiting = pendingPrivacy;
        pendingPrivacy = [];
        for (const w of waiting) w(r.event === 'agree');
      });
    });
    if (!agreed) throw new Error(`${apiName}:fail privacy permission is not authorized`);
  };

  // The share sheet of <button open-type="share">: the page's onShareAppMessage, as a link another person opens.
  host.openType = async (_button, type) => {
    if (type !== 'share') return;
    const page = router.current();
    if (!page) return;
    const fn = page.comp.instance.onShareAppMessage as ((o: unknown) => { title?: string; path?: string } | undefined) | undefined;
    const share = (typeof fn === 'function' ? fn.call(page.comp.instance, { from: 'button' }) : undefined) ?? {};
    const path = share.path || `/${page.route}`;
    const people = ((await fetch(`${host.sandboxBase}/api/people`).then((r) => r.json())) as { people: Array<{ id: string; nickname: string }> }).people.filter((p) => p.id !== host.personId);
    const i = await layers.pick(`分享「${share.title ?? ''}」给朋友`, people.map((p) => ({ title: p.nickname, sub: path })));
    if (i < 0) return;
    window.parent?.postMessage({ type: 'snowball-phone-share', to: people[i].id, from: host.personId, path, title: share.title ?? '' }, location.origin);
    layers.toast('已发送', 'success');
  };

  const request = (o: Opts) => {
    const controller = new AbortController();
    const method = String(o.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = { ...((o.header as Record<string, string>) ?? {}) };
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    // The mini-program points at its configured server; the phone's server is the page's own origin.
    const target = new URL(String(o.url), location.href);
    let url = `${location.origin}${target.pathname}${target.search}`;
    if (method === 'GET' && o.data && typeof o.data === 'object') {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(o.data as Record<string, unknown>)) if (v !== undefined && v !== null) q.append(k, String(v));
      const qs = q.toString();
      if (qs) url += (url.includes('?') ? '&' : '?') + qs;
    }
    const body = method !== 'GET' && method !== 'HEAD' && o.data !== undefined ? (typeof o.data === 'string' ? o.data : JSON.stringify(o.data)) : undefined;
    const timer = setTimeout(() => controller.abort(), Number(o.timeout ?? 60_000));
    const done = (ok: boolean, res: Record<string, unknown>) => {
      clearTimeout(timer);
      if (ok) {
        o.success?.(res);
        o.complete?.(res);
      } else {
        o.fail?.(res);
        o.complete?.(res);
      }
    };
    fetch(url, { method, headers, body, signal: controller.signal })
      .then(async (r) => {
        const text = await r.text();
        let data: unknown = text;
        if (o.dataType !== 'text' && text) {
          try {
            data = JSON.parse(text);
          } catch {
            data = text;
          }
        }
        const header: Record<string, string> = {};
        r.headers.forEach((v, k) => (header[k] = v));
        done(true, { statusCode: r.status, data, header, errMsg: 'request:ok' });
      })
      .catch(() => done(false, { errMsg: controller.signal.aborted ? 'request:fail timeout' : 'request:fail network error' }));
    return { abort: () => controller.abort() };
  };

  const info = () => ({
    brand: 'sandbox',
    model: 'Snowball 沙盒手机',
    pixelRatio: window.devicePixelRatio || 2,
    screenWidth: window.innerWidth,
    screenHeight: window.innerHeight,
    windowWidth: window.innerWidth,
    windowHeight: window.innerHeight,
    statusBarHeight: 20,
    language: 'zh_CN',
    version: '8.0.50',
    system: 'Browser',
    platform: 'devtools',
    SDKVersion: '3.5.0',
    safeArea: { top: 20, left: 0, right: window.innerWidth, bottom: window.innerHeight, width: window.innerWidth, height: window.innerHeight - 20 },
  });

  return {
    request,
    login: api('login', async () => ({ code: (await control<{ code: string }>('POST', '/login-code')).code })),
    checkSession: api('checkSession', () => ({})),
    getStorageSync: (key: string) => {
      const raw = localStorage.getItem(storageKey(key));
      return raw === null ? '' : JSON.parse(raw);
    },
    setStorageSync: (key: string, value: unknown) => localStorage.setItem(storageKey(key), JSON.stringify(value)),
    removeStorageSync: (key: string) => localStorage.removeItem(storageKey(key)),
    clearStorageSync: () => {
      for (const k of Object.keys(localStorage)) if (k.startsWith(storageKey(''))) localStorage.removeItem(k);
    },
    requestPayment: api('requestPayment', async (o) => {
      const pkg = String(o.package ?? '');
      const prepayId = pkg.replace(/^prepay_id=/, '');
      const order = await control<{ description: string; totalFen: number }>('GET', `/prepays/${encodeURIComponent(prepayId)}`).catch(() => null);
      const ok = await layers.sheet({
        title: '微信支付',
        body: [
          el('div', { className: 'wx-pay-to', textContent: order ? order.description : '付款给商家' }),
          order ? el('div', { className: 'wx-pay-amount', textContent: `¥${(order.totalFen / 100).toFixed(2)}` }) : null,
          el('div', { className: 'wx-pay-id', textContent: `预支付单 ${prepayId}` }),
          el('div', { className: 'wx-pay-note', textContent: '沙盒支付：不会扣真实的钱' }),
        ],
        action: '确认支付',
        actionClass: 'wx-pay-confirm',
      });
      if (!ok) throw new Error('requestPayment:fail cancel');
      layers.toast('支付中', 'loading', 0, true);
      try {
        await control('POST', '/pay', { prepayId });
      } finally {
        layers.hideToast();
      }
      return {};
    }),
    // The album: the browser's file picker; the picked file becomes a temp path (an object URL) for wx.uploadFile.
    chooseMedia: api('chooseMedia', () =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const input = el('input', { type: 'file', accept: 'image/*', hidden: true });
        input.addEventListener('change', () => {
          const file = input.files?.[0];
          input.remove();
          if (!file) return reject(new Error('chooseMedia:fail cancel'));
          resolve({ type: 'image', tempFiles: [{ tempFilePath: URL.createObjectURL(file), size: file.size, fileType: 'image' }] });
        });
        input.addEventListener('cancel', () => {
          input.remove();
          reject(new Error('chooseMedia:fail cancel'));
        });
        document.body.append(input);
        input.click();
      }),
    ),
    uploadFile: (o: Opts) => {
      const run = async () => {
        const blob = await fetch(String(o.filePath)).then((r) => r.blob());
        const form = new FormData();
        for (const [k, v] of Object.entries((o.formData as Record<string, string>) ?? {})) form.append(k, String(v));
        form.append(String(o.name), blob, `upload.${(blob.type.split('/')[1] || 'png').replace('jpeg', 'jpg')}`);
        const target = new URL(String(o.url), location.href);
        const r = await fetch(`${location.origin}${target.pathname}${target.search}`, { method: 'POST', headers: (o.header as Record<string, string>) ?? {}, body: form });
        return { statusCode: r.status, data: await r.text(), errMsg: 'uploadFile:ok' };
      };
      run().then(
        (res) => {
          o.success?.(res);
          o.complete?.(res);
        },
        () => {
          const e = { errMsg: 'uploadFile:fail network error' };
          o.fail?.(e);
          o.complete?.(e);
        },
      );
      return { abort: () => undefined };
    },
    // 商家转账: WeChat's confirm-receipt sheet; confirming goes to the sandbox's WeChat Pay.
    requestMerchantTransfer: api('requestMerchantTransfer', async (o) => {
      const ok = await layers.sheet({
        title: '确认收款',
        body: [el('div', { className: 'wx-pay-to', textContent: '商家向你转账，确认后存入零钱' }), el('div', { className: 'wx-pay-note', textContent: '沙盒转账：不会收到真实的钱' })],
        action: '确认收款',
      });
      if (!ok) throw new Error('requestMerchantTransfer:fail cancel');
      await control('POST', '/confirm-transfer', { packageInfo: String(o.package ?? '') });
      return {};
    }),
    requestSubscribeMessage: api('requestSubscribeMessage', async (o) => {
      const ids = (o.tmplIds as string[]) ?? [];
      const ok = await layers.modal({ title: '订阅消息', content: '允许小程序发送一次提醒消息？', cancelText: '取消', confirmText: '允许' });
      const res: Record<string, string> = {};
      for (const id of ids) {
        if (ok) await control('POST', '/subscriptions', { templateId: id, app: 'mp' });
        res[id] = ok ? 'accept' : 'reject';
      }
      return res;
    }),
    chooseAddress: api('chooseAddress', async () => {
      await needPrivacy('chooseAddress');
      const person = await control<{ nickname: string }>('GET', '');
      const rows = SAMPLE_ADDRESSES.map((a) => ({ ...a, userName: person.nickname }));
      const i = await layers.pick('选择收货地址', rows.map((a) => ({ title: `${a.userName}  ${a.telNumber}`, sub: `${a.provinceName}${a.cityName}${a.countyName} ${a.detailInfo}` })));
      if (i < 0) throw new Error('chooseAddress:fail cancel');
      return rows[i];
    }),
    onNeedPrivacyAuthorization: (listener: typeof privacyListener) => {
      privacyListener = listener;
    },
    getPrivacySetting: api('getPrivacySetting', () => ({ needAuthorization: !privacyAgreed(), privacyContractName: '《用户隐私保护指引》' })),
    requirePrivacyAuthorize: api('requirePrivacyAuthorize', async () => {
      await needPrivacy('requirePrivacyAuthorize');
      return {};
    }),
    openPrivacyContract: api('openPrivacyContract', async () => {
      await layers.modal({ title: '《用户隐私保护指引》', content: '沙盒中的隐私保护指引：正式小程序在这里打开在小程序后台填写的指引。', showCancel: false, confirmText: '知道了' });
      return {};
    }),
    showToast: api('showToast', (o) => {
      layers.toast(String(o.title ?? ''), (o.icon as 'success' | 'none') ?? 'success', Number(o.duration ?? 1500), !!o.mask);
      return {};
    }),
    hideToast: api('hideToast', () => {
      layers.hideToast();
      return {};
    }),
    showLoading: api('showLoading', (o) => {
      layers.toast(String(o.title ?? ''), 'loading', 0, !!o.mask);
      return {};
    }),
    hideLoading: api('hideLoading', () => {
      layers.hideToast();
      return {};
    }),
    showModal: api('showModal', async (o) => {
      const confirm = await layers.modal(o as Parameters<Layers['modal']>[0]);
      return { confirm, cancel: !confirm };
    }),
    showActionSheet: api('showActionSheet', async (o) => {
      const tapIndex = await layers.actionSheet((o.itemList as string[]) ?? []);
      if (tapIndex < 0) throw new Error('showActionSheet:fail cancel');
      return { tapIndex };
    }),
    navigateTo: api('navigateTo', async (o) => (await router.navigateTo(String(o.url)), {})),
    redirectTo: api('redirectTo', async (o) => (await router.redirectTo(String(o.url)), {})),
    switchTab: api('switchTab', async (o) => (await router.switchTab(String(o.url)), {})),
    reLaunch: api('reLaunch', async (o) => (await router.reLaunch(String(o.url)), {})),
    navigateBack: api('navigateBack', async (o) => (await router.navigateBack(Number(o.delta ?? 1)), {})),
    setNavigationBarTitle: api('setNavigationBarTitle', (o) => (router.setTitle(String(o.title ?? '')), {})),
    setNavigationBarColor: api('setNavigationBarColor', () => ({})),
    stopPullDownRefresh: api('stopPullDownRefresh', () => (host.stopRefresh(), {})),
    startPullDownRefresh: api('startPullDownRefresh', () => ({})),
    pageScrollTo: api('pageScrollTo', (o) => {
      const frame = document.querySelector('.wx-page-frame:not([hidden]) .wx-page');
      frame?.scrollTo({ top: Number(o.scrollTop ?? 0) });
      return {};
    }),
    showShareMenu: api('showShareMenu', () => ({})),
    hideShareMenu: api('hideShareMenu', () => ({})),
    setClipboardData: api('setClipboardData', async (o) => {
      await navigator.clipboard?.writeText(String(o.data ?? '')).catch(() => undefined);
      layers.toast('内容已复制', 'none', 1500);
      return {};
    }),
    getClipboardData: api('getClipboardData', async () => ({ data: (await navigator.clipboard?.readText().catch(() => '')) ?? '' })),
    vibrateShort: api('vibrateShort', () => ({})),
    getSystemInfoSync: info,
    getWindowInfo: info,
    getDeviceInfo: info,
    getAppBaseInfo: info,
    getSystemInfo: api('getSystemInfo', info),
    getMenuButtonBoundingClientRect: () => ({ top: 24, bottom: 56, left: window.innerWidth - 95, right: window.innerWidth - 7, width: 87, height: 32 }),
    getAccountInfoSync: () => ({ miniProgram: { appId: 'sandbox', envVersion: 'develop', version: '' } }),
    getLaunchOptionsSync: () => (globalThis as unknown as { wx: { __launch: unknown } }).wx.__launch,
    canIUse: () => true,
    nextTick: (fn: () => void) => void Promise.resolve().then(fn),
    getNetworkType: api('getNetworkType', () => ({ networkType: 'wifi' })),
    onAppShow: () => undefined,
    onAppHide: () => undefined,
    offAppShow: () => undefined,
    offAppHide: () => undefined,
  };
}
