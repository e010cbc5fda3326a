import crypto, { type KeyObject } from 'node:crypto';

/** The only request-auth scheme WeChat Pay APIv3 defines. */
export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

/** How old (or how far ahead) a signed timestamp may be, in seconds: WeChat's own SDKs use five minutes. */
export const DEFAULT_MAX_SKEW_S = 300;

export function randomNonce(bytes = 16): string {
  return crypto.randomBytes(bytes).toString('hex').toUpperCase();
}

export function unixSeconds(now = Date.now()): string {
  return Math.floor(now / 1000).toString();
}

/** `METHOD\nPATH?QUERY\ntimestamp\nnonce\nbody\n`: what a merchant signs (an empty body line for GET). */
export function requestMessage(method: string, pathAndQuery: string, timestamp: string, nonce: string, body: string): string {
  return `${method.toUpperCase()}\n${pathAndQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** `timestamp\nnonce\nbody\n`: what WeChat Pay signs on responses and notifications. */
export function responseMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

export function rsaSign(privateKey: KeyObject, message: string): string {
  return crypto.sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

export function rsaVerify(publicKey: KeyObject, message: string, signatureB64: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureB64)) return false;
  try {
    return crypto.verify('sha256', Buffer.from(message, 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

export interface AuthorizationFields {
  mchid: string;
  nonce_str: string;
  timestamp: string;
  serial_no: string;
  signature: string;
}

/** Parses `WECHATPAY2-SHA256-RSA2048 k="v",…`; null when the scheme or a field is missing. */
export function parseAuthorization(header: string | undefined): AuthorizationFields | null {
  if (!header || !header.startsWith(`${AUTH_SCHEME} `)) return null;
  const fields: Record<string, string> = {};
  for (const m of header.slice(AUTH_SCHEME.length + 1).matchAll(/\s*([a-z_]+)="([^"]*)"\s*(?:,|$)/g)) {
    fields[m[1]!] = m[2]!;
  }
  const { mchid, nonce_str, timestamp, serial_no, signature } = fields;
  if (!mchid || !nonce_str || !timestamp || !serial_no || !signature) return null;
  return { mchid, nonce_str, timestamp, serial_no, signature };
}

export function formatAuthorization(f: AuthorizationFields): string {
  return `${AUTH_SCHEME} mchid="${f.mchid}",nonce_str="${f.nonce_str}",signature="${f.signature}",timestamp="${f.timestamp}",serial_no="${f.serial_no}"`;
}

/** True when a signed unix-seconds timestamp is within the allowed skew of now. */
export function timestampFresh(timestamp: string, maxSkewS: number, now = Date.now()): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(now / 1000 - Number(timestamp)) <= maxSkewS;
}

export interface EncryptedResource {
  algorithm: 'AEAD_AES_256_GCM';
  ciphertext: string;
  associated_data: string;
  nonce: string;
  original_type?: string;
}

/** AEAD_AES_256_GCM with the APIv3 key; ciphertext = base64(data ‖ 16-byte tag). */
export function encryptResource(apiV3Key: string, plaintext: string, associatedData: string, originalType: string): EncryptedResource {
  const nonce = crypto.randomBytes(9).toString('base64url').slice(0, 12);
  const cipher = crypto.createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { original_type: originalType, algorithm: 'AEAD_AES_256_GCM', ciphertext: data.toString('base64'), associated_data: associatedData, nonce };
}

/** Decrypts and authenticates (the tag is checked by `final`); throws on any tampering. */
export function decryptResource(apiV3Key: string, r: { ciphertext: string; associated_data?: string; nonce: string }): string {
  const raw = Buffer.from(r.ciphertext, 'base64');
  if (raw.length < 17) throw new Error('ciphertext too short');
  const decipher = crypto.createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(r.nonce, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  decipher.setAAD(Buffer.from(r.associated_data ?? '', 'utf8'));
  return Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]).toString('utf8');
}

/** The parameters `wx.requestPayment` takes; paySign signs `appId\ntimeStamp\nnonceStr\npackage\n`. */
export interface RequestPaymentParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export function requestPaymentMessage(appId: string, timeStamp: string, nonceStr: string, pkg: string): string {
  return `${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`;
}
