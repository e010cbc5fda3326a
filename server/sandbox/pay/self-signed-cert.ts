import crypto, { type KeyObject } from 'node:crypto';

// A minimal DER writer: enough for a self-signed RSA certificate, which Node can create keys for but not certificates.
function der(tag: number, content: Buffer): Buffer {
  const len = content.length;
  let head: Buffer;
  if (len < 0x80) head = Buffer.from([tag, len]);
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    head = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([head, content]);
}

const seq = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));
const nul = () => Buffer.from([0x05, 0x00]);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let n = p >> 7; n > 0; n >>= 7) chunk.unshift((n & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function integer(bytes: Buffer): Buffer {
  return der(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(iso.slice(2))) : der(0x18, Buffer.from(iso));
}

function name(commonName: string, org: string): Buffer {
  const attr = (id: string, value: string) => set(seq(oid(id), der(0x0c, Buffer.from(value, 'utf8'))));
  return seq(attr('2.5.4.6', 'CN'), attr('2.5.4.10', org), attr('2.5.4.3', commonName));
}

export interface SelfSignedCertificate {
  readonly pem: string;
  /** Upper-case hex, as X509Certificate.serialNumber prints it. */
  readonly serial: string;
}

/** A v1 self-signed certificate for an RSA key: what the sandbox hands out as its "platform certificate". */
export function selfSignedCertificate(opts: {
  privateKey: KeyObject;
  commonName: string;
  organization?: string;
  validFrom?: Date;
  validTo?: Date;
}): SelfSignedCertificate {
  const serialBytes = crypto.randomBytes(20);
  serialBytes[0] = (serialBytes[0]! & 0x7f) | 0x10; // positive, and always 20 bytes long
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), nul());
  const subject = name(opts.commonName, opts.organization ?? 'Snowball sandbox');
  const validFrom = opts.validFrom ?? new Date(Date.now() - 60_000);
  const validTo = opts.validTo ?? new Date(Date.now() + 5 * 365 * 24 * 3600_000);
  const spki = crypto.createPublicKey(opts.privateKey).export({ type: 'spki', format: 'der' });
  const tbs = seq(integer(serialBytes), sha256WithRsa, subject, seq(time(validFrom), time(validTo)), subject, spki);
  const signature = crypto.sign('sha256', tbs, opts.privateKey);
  const cert = seq(tbs, sha256WithRsa, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const pem = `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  return { pem, serial: new crypto.X509Certificate(pem).serialNumber.toUpperCase() };
}
