import { createCipheriv, createDecipheriv, createHash, randomFillSync, timingSafeEqual } from 'node:crypto';
import { buildXml } from './xml';

/** The Official Account callback's signing and safe-mode (AES) encryption, as WeChat's message crypto defines it. */
export interface CallbackCryptoOptions {
  readonly token: string;
  readonly appid: string;
  /** The current EncodingAESKey (43 characters); absent → plaintext mode only. */
  readonly aesKey?: string;
  /** The previous EncodingAESKey, still accepted while WeChat switches over. */
  readonly aesKeyPrevious?: string;
}

export class CallbackCryptoError extends Error {
  override name = 'CallbackCryptoError';
  constructor(
    readonly reason: 'bad_key' | 'bad_ciphertext' | 'bad_padding' | 'bad_length' | 'appid_mismatch' | 'no_key',
    message: string,
  ) {
    super(message);
  }
}

const BLOCK = 32; // WeChat pads to 32-byte blocks, not AES's 16

/** EncodingAESKey (43 base64 characters) → the 32-byte AES key. */
export function decodeAesKey(encodingAesKey: string): Buffer {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) throw new CallbackCryptoError('bad_key', 'EncodingAESKey must be 43 characters of [A-Za-z0-9]');
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new CallbackCryptoError('bad_key', 'EncodingAESKey must decode to 32 bytes');
  return key;
}

/**
 * Random bytes for each encrypted message's prefix and each reply's nonce, drawn from a buffer refilled 4 KiB at a
 * time: a call into the system's generator every ~200 replies instead of two per reply. Each byte is used once.
 */
const pool = Buffer.allocUnsafe(4096);
let poolAt = pool.length;
function takeRandom(n: number): Buffer {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool.subarray(poolAt, (poolAt += n)); // a view: copy or read it before the next take
}

/** A random 32-bit nonce, as decimal text (a reply envelope's Nonce). */
export function randomNonce(): string {
  return String(takeRandom(4).readUInt32BE(0));
}

/** sha1 of the sorted parts joined: the callback `signature` and `msg_signature`. */
export function wechatSignature(...parts: string[]): string {
  return createHash('sha1').update(parts.sort().join('')).digest('hex');
}

/** Constant-time comparison of two hex signatures. */
export function signatureMatches(expected: string, given: string | undefined): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given.toLowerCase()));
}

export class CallbackCrypto {
  private readonly keys: Buffer[];

  constructor(readonly options: CallbackCryptoOptions) {
    this.keys = [options.aesKey, options.aesKeyPrevious].filter((k): k is string => !!k).map(decodeAesKey);
  }

  get token(): string {
    return this.options.token;
  }

  get canDecrypt(): boolean {
    return this.keys.length > 0;
  }

  /** Decrypts an `Encrypt` value with the current key, then the previous; says which key worked. */
  decrypt(encrypted: string): { message: string; keyIndex: number } {
    if (!this.keys.length) throw new CallbackCryptoError('no_key', 'No EncodingAESKey is configured: safe mode is unavailable');
    let first: CallbackCryptoError | undefined;
    for (let k = 0; k < this.keys.length; k++) {
      try {
        return { message: this.decryptWith(this.keys[k]!, encrypted), keyIndex: k };
      } catch (err) {
        if (!(err instanceof CallbackCryptoError)) throw err;
        first ??= err;
      }
    }
    throw first!;
  }

  private decryptWith(key: Buffer, encrypted: string): string {
    const data = Buffer.from(encrypted, 'base64');
    if (data.length === 0 || data.length % BLOCK !== 0) throw new CallbackCryptoError('bad_ciphertext', 'ciphertext is not a whole number of 32-byte blocks');
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    const head = decipher.update(data);
    const tail = decipher.final(); // empty: whole blocks and no automatic padding
    const plain = tail.length ? Buffer.concat([head, tail]) : head;
    const pad = plain[plain.length - 1]!;
    if (pad < 1 || pad > BLOCK) throw new CallbackCryptoError('bad_padding', 'invalid PKCS#7 padding');
    for (let i = plain.length - pad; i < plain.length; i++) {
      if (plain[i] !== pad) throw new CallbackCryptoError('bad_padding', 'invalid PKCS#7 padding');
    }
    const body = plain.subarray(0, plain.length - pad);
    if (body.length < 20) throw new CallbackCryptoError('bad_length', 'plaintext too short');
    const length = body.readUInt32BE(16);
    if (20 + length > body.length) throw new CallbackCryptoError('bad_length', 'message length exceeds the plaintext');
    const appid = body.subarray(20 + length).toString('utf8');
    if (appid !== this.options.appid) throw new CallbackCryptoError('appid_mismatch', 'the message was encrypted for another appid');
    return body.subarray(20, 20 + length).toString('utf8');
  }

  /** Encrypts a message as WeChat does: 16 random bytes, 4-byte length, message, appid, 32-byte PKCS#7. */
  encrypt(message: string, keyIndex = 0, random: Buffer = takeRandom(16)): string {
    const key = this.keys[keyIndex];
    if (!key) throw new CallbackCryptoError('no_key', 'No EncodingAESKey is configured: safe mode is unavailable');
    const msg = Buffer.from(message, 'utf8');
    const head = Buffer.alloc(20);
    random.copy(head, 0, 0, 16);
    head.writeUInt32BE(msg.length, 16);
    const appid = Buffer.from(this.options.appid, 'utf8');
    const len = 20 + msg.length + appid.length;
    const pad = BLOCK - (len % BLOCK);
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(Buffer.concat([head, msg, appid, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
  }

  /** A safe-mode reply envelope, encrypted with the key the request used. */
  encryptedReply(message: string, opts: { timestamp: string; nonce: string; keyIndex?: number }): string {
    const encrypted = this.encrypt(message, opts.keyIndex ?? 0);
    return buildXml({
      Encrypt: encrypted,
      MsgSignature: wechatSignature(this.options.token, opts.timestamp, opts.nonce, encrypted),
      TimeStamp: /^\d{1,15}$/.test(opts.timestamp) ? Number(opts.timestamp) : opts.timestamp,
      Nonce: opts.nonce,
    });
  }
}
