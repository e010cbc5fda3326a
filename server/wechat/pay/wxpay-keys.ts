import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { DEFAULT_MAX_SKEW_S, responseMessage, rsaVerify, timestampFresh } from './wxpay-crypto';

/** Env values may hold PEM text (with real or `\n`-escaped newlines) or a path to a PEM file. */
export function readPemValue(value: string, what: string): string {
  const text = value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : readFile(value, what);
  if (!text.includes('-----BEGIN')) throw new Error(`${what}: not PEM text and not a file holding PEM`);
  return text;
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export function privateKeyFrom(value: string, what: string): KeyObject {
  const pem = readPemValue(value, what);
  try {
    return crypto.createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${what}: not a usable private key (${(err as Error).message})`);
  }
}

/** A public key from PEM (SPKI or PKCS#1) or from a certificate. */
export function publicKeyFrom(value: string, what: string): KeyObject {
  const pem = readPemValue(value, what);
  try {
    return pem.includes('CERTIFICATE') ? new crypto.X509Certificate(pem).publicKey : crypto.createPublicKey(pem);
  } catch (err) {
    throw new Error(`${what}: not a usable public key (${(err as Error).message})`);
  }
}

export interface PlatformCertificate {
  /** Upper-case hex, as WeChat prints it in Wechatpay-Serial. */
  readonly serial: string;
  readonly publicKey: KeyObject;
  readonly validFrom: Date;
  readonly validTo: Date;
}

/** One or more PEM certificates: in the value itself, or in files named by a comma-separated list of paths. */
export function platformCertificatesFrom(value: string, what = 'WXPAY_PLATFORM_CERTS'): PlatformCertificate[] {
  const texts = value.includes('-----BEGIN') ? [readPemValue(value, what)] : value.split(',').map((p) => readPemValue(p.trim(), what));
  const certs: PlatformCertificate[] = [];
  for (const text of texts) {
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new Error(`${what}: no certificate found`);
    for (const block of blocks) {
      let cert: crypto.X509Certificate;
      try {
        cert = new crypto.X509Certificate(block);
      } catch (err) {
        throw new Error(`${what}: unreadable certificate (${(err as Error).message})`);
      }
      certs.push({
        serial: cert.serialNumber.toUpperCase(),
        publicKey: cert.publicKey,
        validFrom: new Date(cert.validFrom),
        validTo: new Date(cert.validTo),
      });
    }
  }
  return certs;
}

export const PUBLIC_KEY_ID_PREFIX = 'PUB_KEY_ID_';

export type WxPayKeyKind = 'public_key' | 'platform_certificate';

export interface SignedHeaders {
  timestamp?: string;
  nonce?: string;
  signature?: string;
  serial?: string;
}

export type VerifyResult =
  | { ok: true; keyKind: WxPayKeyKind; serial: string }
  | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'unknown_serial' | 'expired_certificate' | 'bad_signature' };

/** Reads the four Wechatpay-* headers from a Node/Fastify or fetch header bag. */
export function signedHeadersOf(get: (name: string) => string | undefined): SignedHeaders {
  return {
    timestamp: get('wechatpay-timestamp'),
    nonce: get('wechatpay-nonce'),
    signature: get('wechatpay-signature'),
    serial: get('wechatpay-serial'),
  };
}

/**
 * Checks WeChat Pay's signature on a response or notification with the key named by Wechatpay-Serial:
 * the WeChat Pay public key (`PUB_KEY_ID_…`) or one of the platform certificates. Both may be configured at once
 * (during a switch-over WeChat signs with either).
 */
export class WxPayVerifier {
  private readonly certs = new Map<string, PlatformCertificate>();

  constructor(
    private readonly keys: {
      publicKey?: { id: string; key: KeyObject };
      platformCertificates?: readonly PlatformCertificate[];
      maxSkewS?: number;
    },
  ) {
    for (const c of keys.platformCertificates ?? []) this.certs.set(c.serial, c);
    if (!keys.publicKey && this.certs.size === 0) throw new Error('WeChat Pay verification needs a public key or a platform certificate');
  }

  get serials(): string[] {
    return [...(this.keys.publicKey ? [this.keys.publicKey.id] : []), ...this.certs.keys()];
  }

  verify(h: SignedHeaders, body: string, now = Date.now()): VerifyResult {
    if (!h.timestamp || !h.nonce || !h.signature || !h.serial) return { ok: false, reason: 'missing_headers' };
    if (!timestampFresh(h.timestamp, this.keys.maxSkewS ?? DEFAULT_MAX_SKEW_S, now)) return { ok: false, reason: 'stale_timestamp' };
    const message = responseMessage(h.timestamp, h.nonce, body);
    if (h.serial.startsWith(PUBLIC_KEY_ID_PREFIX)) {
      const pk = this.keys.publicKey;
      if (!pk || pk.id !== h.serial) return { ok: false, reason: 'unknown_serial' };
      return rsaVerify(pk.key, message, h.signature) ? { ok: true, keyKind: 'public_key', serial: h.serial } : { ok: false, reason: 'bad_signature' };
    }
    const cert = this.certs.get(h.serial.toUpperCase());
    if (!cert) return { ok: false, reason: 'unknown_serial' };
    if (cert.validTo.getTime() < now || cert.validFrom.getTime() > now) return { ok: false, reason: 'expired_certificate' };
    return rsaVerify(cert.publicKey, message, h.signature)
      ? { ok: true, keyKind: 'platform_certificate', serial: cert.serial }
      : { ok: false, reason: 'bad_signature' };
  }
}
