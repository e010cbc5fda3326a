import { randomBytes } from 'node:crypto';
import { CallbackCrypto, signatureMatches, wechatSignature } from '../wechat/callback-crypto';
import { buildXml, parseWechatXml, type XmlOut, type XmlRecord } from '../wechat/xml';

export interface DeliveryResult {
  readonly status: number;
  /** The server's answer as it arrived. */
  readonly body: string;
  /** The passive reply, decrypted and parsed; undefined for `success` or an empty answer. */
  readonly reply?: XmlRecord;
  readonly error?: string;
  readonly ms: number;
}

export interface DeliveryLogEntry {
  readonly at: string;
  readonly type: string;
  readonly openid: string;
  readonly attempt: number;
  readonly status: number;
  readonly error?: string;
}

/**
 * Posts messages and events to the server's callback URL as WeChat does in safe mode: encrypted with the
 * EncodingAESKey, signed (`signature` and `msg_signature`), 5 s to answer; decrypts and checks the answer.
 */
export class CallbackDeliverer {
  readonly log: DeliveryLogEntry[] = [];

  constructor(
    private readonly crypto: CallbackCrypto,
    private readonly callbackUrl: () => string,
    private readonly timeoutMs = 5_000,
  ) {}

  async deliver(fields: Record<string, XmlOut>, opts: { deliveries?: number; concurrent?: boolean } = {}): Promise<DeliveryResult[]> {
    const xml = buildXml(fields);
    const n = Math.min(Math.max(opts.deliveries ?? 1, 1), 3);
    const attempt = (i: number) => this.post(xml, i, String(fields.Event ?? fields.MsgType), String(fields.FromUserName), String(fields.ToUserName));
    if (opts.concurrent) return Promise.all(Array.from({ length: n }, (_, i) => attempt(i + 1)));
    const results: DeliveryResult[] = [];
    for (let i = 1; i <= n; i++) results.push(await attempt(i));
    return results;
  }

  private async post(xml: string, attempt: number, type: string, openid: string, toUserName: string): Promise<DeliveryResult> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(randomBytes(4).readUInt32BE(0));
    const token = this.crypto.token;
    const encrypted = this.crypto.encrypt(xml);
    const body = buildXml({ ToUserName: toUserName, Encrypt: encrypted });
    const query = new URLSearchParams({
      signature: wechatSignature(token, timestamp, nonce),
      timestamp,
      nonce,
      openid,
      encrypt_type: 'aes',
      msg_signature: wechatSignature(token, timestamp, nonce, encrypted),
    });
    const started = Date.now();
    let result: DeliveryResult;
    try {
      const res = await fetch(`${this.callbackUrl()}?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      result = { status: res.status, body: text, reply: res.ok ? this.openReply(text) : undefined, ms: Date.now() - started };
      if (res.ok && text !== '' && text !== 'success' && !result.reply) result = { ...result, error: 'malformed reply: WeChat would show 该公众号暂时无法提供服务' };
    } catch (err) {
      result = { status: 0, body: '', error: (err as Error).name === 'TimeoutError' ? 'no answer within 5 s' : (err as Error).message, ms: Date.now() - started };
    }
    this.log.push({ at: new Date().toISOString(), type, openid, attempt, status: result.status, error: result.error });
    if (this.log.length > 500) this.log.splice(0, this.log.length - 500);
    return result;
  }

  /** A safe-mode answer: verify MsgSignature over its Encrypt, decrypt, parse. */
  private openReply(text: string): XmlRecord | undefined {
    if (text === '' || text === 'success') return undefined;
    try {
      const envelope = parseWechatXml(text);
      const encrypted = envelope.Encrypt;
      if (typeof encrypted !== 'string') return envelope; // a plaintext reply
      const expected = wechatSignature(this.crypto.token, String(envelope.TimeStamp), String(envelope.Nonce), encrypted);
      if (!signatureMatches(expected, String(envelope.MsgSignature))) return undefined;
      return parseWechatXml(this.crypto.decrypt(encrypted).message);
    } catch {
      return undefined;
    }
  }
}
