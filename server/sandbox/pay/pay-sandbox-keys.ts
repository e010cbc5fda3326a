import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PaySandboxKeys } from './pay-sandbox';
import { selfSignedCertificate } from './self-signed-cert';

/** Everything both sides of sandbox WeChat Pay need, as stored on disk (PEM text). */
export interface SandboxPayKeyFile {
  version: 1;
  mchid: string;
  merchantSerialNo: string;
  merchantPrivateKey: string;
  apiV3Key: string;
  wechatpayPublicKeyId: string;
  wechatpayPrivateKey: string;
  wechatpayPublicKey: string;
  platformPrivateKey: string;
  platformCertificate: string;
  platformSerial: string;
}

/** The merchant's view of the sandbox credentials: what WXPAY_* would hold for a real merchant. */
export interface SandboxMerchantCredentials {
  mchid: string;
  serialNo: string;
  privateKey: crypto.KeyObject;
  apiV3Key: string;
  publicKey: { id: string; key: crypto.KeyObject };
  platformCertificatePem: string;
}

const pem = (k: crypto.KeyObject, type: 'pkcs8' | 'spki') => k.export({ type, format: 'pem' }) as string;

export function generateSandboxPayKeys(): SandboxPayKeyFile {
  const rsa = () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const merchant = rsa();
  const wechatpay = rsa();
  const platform = rsa();
  const cert = selfSignedCertificate({ privateKey: platform.privateKey, commonName: 'Tenpay.com Root CA (sandbox)' });
  return {
    version: 1,
    mchid: `19${crypto.randomInt(10_000_000, 99_999_999)}`,
    merchantSerialNo: crypto.randomBytes(20).toString('hex').toUpperCase(),
    merchantPrivateKey: pem(merchant.privateKey, 'pkcs8'),
    apiV3Key: crypto.randomBytes(24).toString('base64url').slice(0, 32),
    wechatpayPublicKeyId: `PUB_KEY_ID_01${crypto.randomInt(10 ** 9, 10 ** 10 - 1)}${crypto.randomInt(10 ** 9, 10 ** 10 - 1)}`,
    wechatpayPrivateKey: pem(wechatpay.privateKey, 'pkcs8'),
    wechatpayPublicKey: pem(wechatpay.publicKey, 'spki'),
    platformPrivateKey: pem(platform.privateKey, 'pkcs8'),
    platformCertificate: cert.pem,
    platformSerial: cert.serial,
  };
}

/**
 * Reads DATA_DIR/sandbox/wxpay-keys.json, creating it on first start, so the app and the sandbox agree across
 * restarts. Written owner-only and atomically (two processes starting together keep the first file).
 */
export function loadOrCreateSandboxPayKeys(dataDir: string): SandboxPayKeyFile {
  const file = path.resolve(dataDir, 'sandbox', 'wxpay-keys.json');
  const existing = readKeyFile(file);
  if (existing) return existing;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fresh = generateSandboxPayKeys();
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, JSON.stringify(fresh, null, 2), { mode: 0o600 });
  try {
    fs.linkSync(tmp, file); // fails if another process got there first
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.unlinkSync(tmp);
  }
  return readKeyFile(file)!;
}

function readKeyFile(file: string): SandboxPayKeyFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as SandboxPayKeyFile;
  if (parsed.version !== 1) throw new Error(`${file}: unknown sandbox key file version; delete it to regenerate`);
  return parsed;
}

export function sandboxMerchantCredentials(f: SandboxPayKeyFile): SandboxMerchantCredentials {
  return {
    mchid: f.mchid,
    serialNo: f.merchantSerialNo,
    privateKey: crypto.createPrivateKey(f.merchantPrivateKey),
    apiV3Key: f.apiV3Key,
    publicKey: { id: f.wechatpayPublicKeyId, key: crypto.createPublicKey(f.wechatpayPublicKey) },
    platformCertificatePem: f.platformCertificate,
  };
}

export function sandboxSideKeys(f: SandboxPayKeyFile): PaySandboxKeys {
  return {
    mchid: f.mchid,
    merchantSerialNo: f.merchantSerialNo,
    merchantPublicKey: crypto.createPublicKey(f.merchantPrivateKey),
    apiV3Key: f.apiV3Key,
    wechatpayPublicKeyId: f.wechatpayPublicKeyId,
    wechatpayPrivateKey: crypto.createPrivateKey(f.wechatpayPrivateKey),
    platform: { serial: f.platformSerial, privateKey: crypto.createPrivateKey(f.platformPrivateKey) },
  };
}
