import type { IPayRequest, Output } from 'wechatpay-node-v3/dist/define';
import { signedHeadersOf, type WxPayVerifier } from './wxpay-keys';
import { WxPayError, wxPayApiError } from './wxpay-errors';

/** The host wechatpay-node-v3 writes into every URL; the adapter swaps it for the configured base. */
export const WECHATPAY_HOST = 'https://api.mch.weixin.qq.com';

export interface WxPayHttpOptions {
  /** Where APIv3 lives: https://api.mch.weixin.qq.com, or the sandbox (PUBLIC_URL + /sandbox/pay). */
  apiBase: string;
  verifier: WxPayVerifier;
  timeoutMs?: number;
}

export interface WxPayResponse {
  status: number;
  /** The raw body exactly as signed. */
  text: string;
  requestId?: string;
}

/**
 * The HTTP side of wechatpay-node-v3 (its `createHttp` hook): sends to the configured base URL instead of the
 * hard-coded host, sends the body byte-for-byte as the library signed it, and verifies Wechatpay-Signature on
 * every answer before anyone reads it.
 */
export class WxPayHttp implements IPayRequest {
  private readonly base: string;

  constructor(private readonly opts: WxPayHttpOptions) {
    this.base = opts.apiBase.replace(/\/$/, '');
  }

  async post(url: string, params: Record<string, any>, headers: Record<string, any>): Promise<Output> {
    return this.toOutput(await this.send('POST', url, JSON.stringify(params), headers));
  }

  async get(url: string, headers: Record<string, any>): Promise<Output> {
    return this.toOutput(await this.send('GET', url, undefined, headers));
  }

  async upload(): Promise<Output> {
    throw new WxPayError('invalid', 'wxpay_unsupported', 'Media upload is not used by Snowball');
  }

  /** Rewrites the library's URL (or a bare /v3 path) onto the configured base. */
  resolve(url: string): string {
    if (url.startsWith(WECHATPAY_HOST)) return this.base + url.slice(WECHATPAY_HOST.length);
    if (url.startsWith('/')) return this.base + url;
    throw new WxPayError('invalid', 'wxpay_bad_url', `Not a WeChat Pay URL: ${url}`);
  }

  /** One signed exchange; throws WxPayError for transport failures, unverified answers and WeChat's errors. */
  async send(method: 'GET' | 'POST', url: string, body: string | undefined, headers: Record<string, any>): Promise<WxPayResponse> {
    const target = this.resolve(url);
    const sendHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'accept-encoding') sendHeaders[k] = String(v);
    if (body !== undefined) sendHeaders['Content-Type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetch(target, { method, headers: sendHeaders, body, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
      text = await res.text();
    } catch (err) {
      throw new WxPayError('unavailable', 'wxpay_unreachable', `WeChat Pay did not answer: ${(err as Error).message}`);
    }
    const requestId = res.headers.get('request-id') ?? undefined;
    const signed = signedHeadersOf((n) => res.headers.get(n) ?? undefined);
    const hasSignature = Boolean(signed.signature);
    if (res.ok || hasSignature) {
      const check = this.opts.verifier.verify(signed, text);
      if (!check.ok) {
        throw new WxPayError('unavailable', 'wxpay_response_unverified', `WeChat Pay answer failed verification (${check.reason}); request ${requestId ?? '-'}`, res.status);
      }
    }
    if (!res.ok) {
      const parsed = safeJson(text) as { code?: string; message?: string } | undefined;
      throw wxPayApiError(res.status, parsed?.code, parsed?.message);
    }
    return { status: res.status, text, requestId };
  }

  private toOutput(r: WxPayResponse): Output {
    return { status: r.status, data: r.text ? safeJson(r.text) : undefined };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
