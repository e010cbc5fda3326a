import API from 'co-wechat-api';
import { unavailable } from '../infra/errors';
import type { KvStore } from '../infra/kv';
import { SharedAccessToken, type SharedAccessTokenOptions } from './access-token';
import { WechatApiError, wechatError } from './api-errors';

export const WECHAT_OFFICIAL_BASE = 'https://api.weixin.qq.com';

export interface ApiClientOptions {
  appid: string;
  secret: string;
  /** https://api.weixin.qq.com, or the sandbox (PUBLIC_URL/sandbox). */
  apiBase: string;
  kv: KvStore;
  timeoutMs?: number;
  token?: SharedAccessTokenOptions;
}

/** json-bigint turns 64-bit numbers into BigNumber objects: they become exact decimal strings here. */
function normalize(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const v = value as { isBigNumber?: boolean; _isBigNumber?: boolean; toFixed?: () => string; constructor?: { name?: string } };
  if ((v.isBigNumber || v._isBigNumber || v.constructor?.name === 'BigNumber') && typeof v.toFixed === 'function') {
    const text = v.toFixed();
    return Number.isSafeInteger(Number(text)) ? Number(text) : text;
  }
  if (Array.isArray(value)) return value.map(normalize);
  return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, normalize(x)]));
}

const TOKEN_ERRORS = new Set([40001, 42001, 40014]);

/**
 * co-wechat-api with what a cluster needs: base URLs from config (its prefixes are fixed to api.weixin.qq.com),
 * the access token shared through the store behind a refresh lock, one refresh-and-retry on 40001/42001,
 * and every errcode turned into a typed WechatApiError.
 */
export class WechatApiClient {
  protected readonly api: API;
  readonly token: SharedAccessToken;
  private readonly rawRequest: (url: string, opts?: object, retry?: number) => Promise<unknown>;

  constructor(readonly options: ApiClientOptions) {
    const api = new API(options.appid, options.secret);
    const base = options.apiBase.replace(/\/$/, '');
    api.prefix = `${base}/cgi-bin/`;
    api.snsPrefix = `${base}/sns/`;
    api.wxaPrefix = `${base}/wxa/`;
    api.payPrefix = `${base}/pay/`;
    api.merchantPrefix = `${base}/merchant/`;
    api.customservicePrefix = `${base}/customservice/`;
    if (base !== WECHAT_OFFICIAL_BASE) {
      // On real WeChat these two live on other hosts; a stand-in serves everything from one base.
      api.mpPrefix = `${base}/cgi-bin/`;
      api.fileServerPrefix = `${base}/cgi-bin/`;
    }
    api.setOpts({ timeout: options.timeoutMs ?? 10_000 });
    this.api = api;
    // The package's own request, with its built-in retries off (retry = 0): the retry lives here, once.
    const original = API.prototype.request;
    this.rawRequest = (url, opts, retry = 0) => original.call(api, url, opts, retry);
    this.token = new SharedAccessToken(options.kv, options.appid, () => this.fetchToken(), options.token);
    api.ensureAccessToken = async () => ({ accessToken: await this.token.get() });
    api.getAccessToken = async () => ({ accessToken: await this.token.refresh() });
    api.request = (url, opts) => this.request(url, opts);
  }

  get appid(): string {
    return this.options.appid;
  }

  private async fetchToken() {
    const url = `${this.api.prefix}token?grant_type=client_credential&appid=${encodeURIComponent(this.options.appid)}&secret=${encodeURIComponent(this.options.secret)}`;
    const data = (await this.send(url, undefined, 'token')) as { access_token?: string; expires_in?: number };
    if (!data.access_token) throw unavailable('wechat_token_missing', 'WeChat answered the token request without access_token');
    return { accessToken: data.access_token, expiresIn: Number(data.expires_in ?? 7200) };
  }

  /** Every call goes through here: errcodes become typed errors; a refused token is refreshed once and retried. */
  private async request(url: string, opts?: object): Promise<unknown> {
    const api = apiName(url);
    try {
      return await this.send(url, opts, api);
    } catch (err) {
      if (!(err instanceof WechatApiError) || !TOKEN_ERRORS.has(err.errcode)) throw err;
      const used = new URL(url).searchParams.get('access_token');
      if (used === null) throw err;
      const fresh = await this.token.refresh(used);
      const retried = new URL(url);
      retried.searchParams.set('access_token', fresh);
      return this.send(retried.toString(), opts, api);
    }
  }

  private async send(url: string, opts: object | undefined, api: string): Promise<unknown> {
    let result: unknown;
    try {
      result = await this.rawRequest(url, opts, 0);
    } catch (err) {
      const e = err as { code?: unknown; message?: string; name?: string };
      if (typeof e.code === 'number') throw wechatError(e.code, e.message ?? '', api);
      throw unavailable('wechat_unreachable', `WeChat ${api} did not answer: ${e.message ?? String(err)}`);
    }
    return normalize(result);
  }

  /** A JSON POST to a path under /cgi-bin/ (or /wxa/) for calls co-wechat-api does not cover. */
  protected async post<T>(path: string, body: object, under: 'cgi-bin' | 'wxa' = 'cgi-bin'): Promise<T> {
    const accessToken = await this.token.get();
    const prefix = under === 'wxa' ? this.api.wxaPrefix : this.api.prefix;
    const url = `${prefix}${path}?access_token=${encodeURIComponent(accessToken)}`;
    return (await this.request(url, {
      method: 'POST',
      data: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      dataType: 'json',
    })) as T;
  }
}

function apiName(url: string): string {
  try {
    const { pathname } = new URL(url);
    const i = pathname.search(/\/(cgi-bin|sns|wxa)\//);
    return i >= 0 ? pathname.slice(i + 1) : pathname;
  } catch {
    return 'request';
  }
}
