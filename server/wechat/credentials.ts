import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { WechatConfig } from '../config';

/** The accounts Snowball speaks for: the Official Account and (optionally) the mini-program. */
export interface WechatCredentials {
  readonly appid: string;
  readonly secret: string;
  readonly token: string;
  readonly aesKey?: string;
  readonly aesKeyPrevious?: string;
  readonly mp?: { readonly appid: string; readonly secret: string };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomText = (n: number) => Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');

/** Credentials of a made-up account, in WeChat's formats. */
export function newSandboxCredentials(): Required<Omit<WechatCredentials, 'aesKeyPrevious'>> {
  return {
    appid: `wx${randomBytes(8).toString('hex')}`,
    secret: randomBytes(16).toString('hex'),
    token: randomText(32),
    aesKey: randomText(43),
    mp: { appid: `wx${randomBytes(8).toString('hex')}`, secret: randomBytes(16).toString('hex') },
  };
}

/**
 * The credentials to use. With real accounts: the configured ones. In sandbox mode, what is not configured is
 * made up once and kept in DATA_DIR/sandbox-wechat.json, so the app and the sandbox (and a restart) agree.
 */
export function resolveWechatCredentials(config: WechatConfig, dataDir: string): WechatCredentials {
  const configured = {
    appid: config.appid,
    secret: config.secret,
    token: config.token,
    aesKey: config.aesKey,
    aesKeyPrevious: config.aesKeyPrevious,
    mp: config.mpAppid && config.mpSecret ? { appid: config.mpAppid, secret: config.mpSecret } : undefined,
  };
  if (!config.sandbox) {
    return Object.freeze({ ...configured, appid: configured.appid!, secret: configured.secret!, token: configured.token! });
  }
  const file = path.resolve(dataDir, 'sandbox-wechat.json');
  let stored: ReturnType<typeof newSandboxCredentials> | undefined;
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8')) as ReturnType<typeof newSandboxCredentials>;
  } catch {
    stored = undefined;
  }
  if (!stored?.appid || !stored.mp?.appid) {
    stored = newSandboxCredentials();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  return Object.freeze({
    appid: configured.appid ?? stored.appid,
    secret: configured.secret ?? stored.secret,
    token: configured.token ?? stored.token,
    aesKey: configured.aesKey ?? stored.aesKey,
    aesKeyPrevious: configured.aesKeyPrevious,
    mp: configured.mp ?? stored.mp,
  });
}
