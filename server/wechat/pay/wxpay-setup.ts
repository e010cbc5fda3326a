import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { ConfigError, type WxPayConfig } from '../../config';
import type { Db } from '../../infra/db';
import { platformCertificatesFrom, privateKeyFrom, publicKeyFrom, WxPayVerifier, type PlatformCertificate } from './wxpay-keys';
import { WxPayClient } from './wxpay.client';
import { WxPayNotificationService } from './wxpay-notification.service';

/** A merchant's WeChat Pay credentials, read and checked. */
export interface WxPayCredentials {
  mchid: string;
  serialNo: string;
  privateKey: KeyObject;
  apiV3Key: string;
  publicKey?: { id: string; key: KeyObject };
  platformCertificates: PlatformCertificate[];
}

/** Reads the key files / PEM values of a live config; a bad key stops the boot with the variable named. */
export function credentialsFromConfig(cfg: Extract<WxPayConfig, { mode: 'live' }>): WxPayCredentials {
  try {
    return {
      mchid: cfg.mchid,
      serialNo: cfg.serialNo,
      privateKey: privateKeyFrom(cfg.privateKey, 'WXPAY_PRIVATE_KEY'),
      apiV3Key: cfg.apiV3Key,
      publicKey: cfg.publicKey ? { id: cfg.publicKey.id, key: publicKeyFrom(cfg.publicKey.pem, 'WXPAY_PUBLIC_KEY') } : undefined,
      platformCertificates: cfg.platformCerts ? platformCertificatesFrom(cfg.platformCerts) : [],
    };
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${(err as Error).message}`);
  }
}

export interface WxPay {
  /** Null when WeChat Pay is off (production without credentials): callers answer `unavailable`. */
  readonly client: WxPayClient | null;
  /** Always present so modules can register handlers whatever the mode. */
  readonly notifications: WxPayNotificationService;
}

export function createWxPay(
  creds: WxPayCredentials | undefined,
  opts: { apiBase: string; notifyUrl: string; db: Db; log: FastifyBaseLogger },
): WxPay {
  if (!creds) return { client: null, notifications: new WxPayNotificationService(opts.db, undefined, opts.log) };
  const verifier = new WxPayVerifier({ publicKey: creds.publicKey, platformCertificates: creds.platformCertificates });
  const client = new WxPayClient({
    mchid: creds.mchid,
    serialNo: creds.serialNo,
    privateKey: creds.privateKey,
    apiBase: opts.apiBase,
    verifier,
    notifyUrl: opts.notifyUrl,
  });
  return { client, notifications: new WxPayNotificationService(opts.db, { verifier, apiV3Key: creds.apiV3Key }, opts.log) };
}
