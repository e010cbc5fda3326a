import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { invalid, unauthorized } from '../infra/errors';
import type { KvStore } from '../infra/kv';
import { CallbackCrypto, CallbackCryptoError, randomNonce, signatureMatches, wechatSignature } from './callback-crypto';
import { InboundDispatcher, InboundMessageError, passiveReplyXml, toInboundMessage, type InboundMessage } from './inbound';
import { parseWechatXml, rawElementText, XmlError } from './xml';

export interface CallbackQuery {
  signature?: string;
  timestamp?: string;
  nonce?: string;
  echostr?: string;
  encrypt_type?: string;
  msg_signature?: string;
  openid?: string;
}

export interface CallbackServiceOptions {
  crypto: CallbackCrypto;
  kv: KvStore;
  dispatcher: InboundDispatcher;
  log: FastifyBaseLogger;
  /** Seconds a callback's timestamp may differ from now; 0 turns the check off. */
  maxAgeSeconds: number;
  /** Handlers still running after this answer `success` and finish in the background (WeChat waits 5 s). */
  replyBudgetMs?: number;
  /** How long a redelivery waits for the first delivery to finish before answering `success`. */
  redeliveryWaitMs?: number;
  /** How long a processed message is remembered (redeliveries come within seconds; days is generous). */
  dedupeTtlMs?: number;
}

export interface CallbackAnswer {
  readonly body: string;
  readonly contentType: 'text/plain' | 'application/xml';
  /** What the pipeline did: for logs and tests. */
  readonly outcome: 'processed' | 'duplicate' | 'timed_out';
}

const SUCCESS: CallbackAnswer = Object.freeze({ body: 'success', contentType: 'text/plain', outcome: 'processed' });
const DONE = 'done:';
/** What a console URL check leaves under its (timestamp, nonce): no body's digest matches it. */
const URL_CHECK = 'url-check';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The Official Account callback pipeline: verify over the raw bytes, decrypt, parse, dedupe across instances,
 * dispatch to the registered handlers, answer within WeChat's 5 s with `success` or a (re-encrypted) passive reply.
 */
export class WechatCallbackService {
  private readonly replyBudgetMs: number;
  private readonly redeliveryWaitMs: number;
  private readonly dedupeTtlMs: number;

  constructor(private readonly opts: CallbackServiceOptions) {
    this.replyBudgetMs = opts.replyBudgetMs ?? 4_000;
    this.redeliveryWaitMs = opts.redeliveryWaitMs ?? 3_000;
    this.dedupeTtlMs = opts.dedupeTtlMs ?? 3 * 24 * 3600_000;
  }

  /**
   * GET: the console's URL check. Answers `echostr` unchanged when the signature is WeChat's. Without a key its
   * timestamp and nonce are used up, so the signed URL cannot then carry a plaintext body (a repeated check still echoes).
   */
  async verifyUrl(query: CallbackQuery): Promise<string> {
    const { timestamp, nonce } = this.checkSignature(query);
    if (typeof query.echostr !== 'string' || query.echostr === '') throw invalid('missing_echostr', 'echostr is required');
    if (!this.opts.crypto.canDecrypt) await this.opts.kv.setIfAbsent(this.nonceKey(timestamp, nonce), URL_CHECK, this.nonceTtlMs(timestamp));
    return query.echostr;
  }

  async handle(query: CallbackQuery, raw: Buffer, requestId: string): Promise<CallbackAnswer> {
    const safeMode = query.encrypt_type === 'aes';
    if (query.encrypt_type !== undefined && query.encrypt_type !== 'aes' && query.encrypt_type !== 'raw') {
      throw invalid('unknown_encrypt_type', `encrypt_type must be aes or raw, got ${query.encrypt_type}`);
    }
    // `signature` signs token, timestamp and nonce, never the body: with a key configured only a verified Encrypt is
    // trusted (compatible mode carries one too, and its clear copy is ignored), so dropping encrypt_type forges nothing.
    if (!safeMode && this.opts.crypto.canDecrypt) {
      throw unauthorized('encryption_required', 'WECHAT_AES_KEY is configured: only encrypted callbacks (compatible or safe mode) are accepted');
    }
    let xml: string;
    let keyIndex = 0;
    if (safeMode) {
      const timestamp = this.checkTimestamp(query);
      const nonce = required(query.nonce, 'nonce');
      const body = raw.toString('utf8');
      const encrypted = rawElementText(body, 'Encrypt');
      if (!encrypted) throw invalid('missing_encrypt', 'safe mode callback without an Encrypt element');
      const expected = wechatSignature(this.opts.crypto.token, timestamp, nonce, encrypted);
      if (!signatureMatches(expected, query.msg_signature)) throw unauthorized('bad_signature', 'msg_signature does not match');
      if (query.signature !== undefined && !signatureMatches(wechatSignature(this.opts.crypto.token, timestamp, nonce), query.signature)) {
        throw unauthorized('bad_signature', 'signature does not match');
      }
      try {
        ({ message: xml, keyIndex } = this.opts.crypto.decrypt(encrypted));
      } catch (err) {
        if (!(err instanceof CallbackCryptoError)) throw err;
        if (err.reason === 'no_key') throw invalid('safe_mode_unavailable', 'WECHAT_AES_KEY is not configured');
        throw unauthorized(err.reason === 'appid_mismatch' ? 'appid_mismatch' : 'decrypt_failed', err.message);
      }
    } else {
      const { timestamp, nonce } = this.checkSignature(query);
      await this.claimNonce(timestamp, nonce, raw);
      xml = raw.toString('utf8');
    }

    let msg: InboundMessage;
    try {
      msg = toInboundMessage(parseWechatXml(xml));
    } catch (err) {
      if (err instanceof XmlError) throw invalid('malformed_xml', err.message);
      if (err instanceof InboundMessageError) throw invalid('invalid_message', err.message);
      throw err;
    }

    const { xml: reply, outcome } = await this.processOnce(msg, requestId);
    if (reply === '') return outcome === 'processed' ? SUCCESS : { ...SUCCESS, outcome };
    const body = safeMode
      ? this.opts.crypto.encryptedReply(reply, {
          timestamp: String(Math.floor(Date.now() / 1000)),
          nonce: randomNonce(),
          keyIndex,
        })
      : reply;
    return { body, contentType: 'application/xml', outcome };
  }

  /**
   * The dedupe mark is taken atomically in the shared store (SET NX): one delivery of a message runs the
   * handlers, every other delivery (another instance, a WeChat retry) answers with the same reply.
   * Messages whose handlers all dedupe themselves skip the mark. An empty reply is answered `success`.
   */
  private async processOnce(msg: InboundMessage, requestId: string): Promise<{ xml: string; outcome: CallbackAnswer['outcome'] }> {
    if (this.opts.dispatcher.dedupesItself(msg)) {
      return this.withinBudget(msg, this.opts.dispatcher.dispatch(msg, { requestId }).then((reply) => (reply ? passiveReplyXml(msg, reply) : '')));
    }
    const key = `wechat:inbound:${this.opts.crypto.options.appid}:${msg.dedupeKey}`;
    // Nothing handles it: the mark is final at once (one store round trip).
    const unhandled = this.opts.dispatcher.handlersFor(msg).length === 0;
    const first = await this.opts.kv.setIfAbsent(key, unhandled ? DONE : 'pending', this.dedupeTtlMs);
    if (!first) return this.awaitFirst(key);
    if (unhandled) return { xml: '', outcome: 'processed' };

    const work = this.opts.dispatcher.dispatch(msg, { requestId }).then(
      async (reply) => {
        const xml = reply ? passiveReplyXml(msg, reply) : '';
        await this.opts.kv.set(key, DONE + xml, this.dedupeTtlMs);
        return xml;
      },
      async (err: unknown) => {
        // Forget the mark so WeChat's retry (or the next delivery) processes the message again.
        await this.opts.kv.del(key).catch(() => undefined);
        throw err;
      },
    );
    return this.withinBudget(msg, work);
  }

  /** The reply if the handlers finish within the budget; else `success` now, and the work goes on (and is logged). */
  private async withinBudget(msg: InboundMessage, work: Promise<string>): Promise<{ xml: string; outcome: CallbackAnswer['outcome'] }> {
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.replyBudgetMs)));
    try {
      const result = await Promise.race([work, budget]);
      if (result === 'timeout') {
        work.catch((err: unknown) => this.opts.log.error({ err, type: msg.type }, 'inbound handler failed after the reply budget'));
        this.opts.log.warn({ type: msg.type, budgetMs: this.replyBudgetMs }, 'inbound handlers exceeded the reply budget: answered success');
        return { xml: '', outcome: 'timed_out' };
      }
      return { xml: result, outcome: 'processed' };
    } finally {
      clearTimeout(timer);
    }
  }

  /** A redelivery: answer what the first delivery answered, waiting briefly while it is still running. */
  private async awaitFirst(key: string): Promise<{ xml: string; outcome: 'duplicate' }> {
    const deadline = Date.now() + this.redeliveryWaitMs;
    for (let wait = 20; ; wait = Math.min(wait * 2, 200)) {
      const state = await this.opts.kv.get(key);
      if (state?.startsWith(DONE)) return { xml: state.slice(DONE.length), outcome: 'duplicate' };
      if (state === null || Date.now() >= deadline) return { xml: '', outcome: 'duplicate' };
      await sleep(wait);
    }
  }

  private checkTimestamp(query: CallbackQuery): string {
    const timestamp = required(query.timestamp, 'timestamp');
    if (!/^\d{1,12}$/.test(timestamp)) throw invalid('invalid_timestamp', 'timestamp must be Unix seconds');
    const maxAge = this.opts.maxAgeSeconds;
    if (maxAge > 0 && Math.abs(Date.now() / 1000 - Number(timestamp)) > maxAge) {
      throw unauthorized('stale_timestamp', `timestamp is more than ${maxAge} s away from now`);
    }
    return timestamp;
  }

  private checkSignature(query: CallbackQuery): { timestamp: string; nonce: string } {
    const timestamp = this.checkTimestamp(query);
    const nonce = required(query.nonce, 'nonce');
    const expected = wechatSignature(this.opts.crypto.token, timestamp, nonce);
    if (!signatureMatches(expected, query.signature)) throw unauthorized('bad_signature', 'signature does not match');
    return { timestamp, nonce };
  }

  /**
   * Plaintext mode: a signed (timestamp, nonce) carries one body. It is remembered in the shared store while the
   * timestamp is acceptable, with the body's digest: the same URL and body again is a redelivery (the dedupe answers
   * it), the same URL with another body is refused on every instance. Encrypted mode needs no such record:
   * msg_signature covers the Encrypt, so a replayed URL can only carry the message it was signed for, which the
   * dedupe absorbs like any redelivery.
   */
  private async claimNonce(timestamp: string, nonce: string, raw: Buffer): Promise<void> {
    const key = this.nonceKey(timestamp, nonce);
    const digest = createHash('sha256').update(raw).digest('base64');
    if (await this.opts.kv.setIfAbsent(key, digest, this.nonceTtlMs(timestamp))) return;
    if ((await this.opts.kv.get(key)) === digest) return;
    throw unauthorized('replayed_nonce', 'this timestamp and nonce were already used for another message');
  }

  private nonceKey(timestamp: string, nonce: string): string {
    return `wechat:nonce:${this.opts.crypto.options.appid}:${timestamp}:${nonce}`;
  }

  /** Until the timestamp leaves the window (plus a minute of clock skew); a day when the age check is off. */
  private nonceTtlMs(timestamp: string): number {
    const maxAge = this.opts.maxAgeSeconds;
    if (maxAge === 0) return 24 * 3600_000;
    return Math.max(0, (Number(timestamp) + maxAge) * 1000 - Date.now()) + 60_000;
  }
}

function required(v: string | undefined, name: string): string {
  if (typeof v !== 'string' || v === '') throw unauthorized('bad_signature', `${name} is required`);
  return v;
}
