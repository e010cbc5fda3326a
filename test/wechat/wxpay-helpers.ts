import crypto from 'node:crypto';
import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { PaySandbox, type PaySandboxOptions } from '../../server/sandbox/pay/pay-sandbox';
import { paySandboxRoutes } from '../../server/sandbox/pay/pay-sandbox.routes';
import { generateSandboxPayKeys, sandboxMerchantCredentials, sandboxSideKeys, type SandboxPayKeyFile } from '../../server/sandbox/pay/pay-sandbox-keys';
import { platformCertificatesFrom, WxPayVerifier } from '../../server/wechat/pay/wxpay-keys';
import { WxPayClient } from '../../server/wechat/pay/wxpay.client';

/** Keys generated once per test file: nothing secret is ever committed. */
let cached: SandboxPayKeyFile | undefined;
export function testPayKeys(): SandboxPayKeyFile {
  cached ??= generateSandboxPayKeys();
  return cached;
}

export interface StandaloneSandbox {
  sandbox: PaySandbox;
  server: FastifyInstance;
  base: string;
  close(): Promise<void>;
}

/** The sandbox's WeChat Pay on a port of its own, mounted under a prefix as in the app. */
export async function startStandaloneSandbox(keys: SandboxPayKeyFile, opts: Partial<PaySandboxOptions> = {}): Promise<StandaloneSandbox> {
  const sandbox = new PaySandbox({ keys: sandboxSideKeys(keys), ...opts });
  const server = Fastify({ logger: false });
  await server.register(paySandboxRoutes, { prefix: '/sandbox/pay', sandbox });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.server.address() as net.AddressInfo).port;
  return {
    sandbox,
    server,
    base: `http://127.0.0.1:${port}/sandbox/pay`,
    async close() {
      sandbox.close();
      await server.close();
    },
  };
}

export function merchantClient(
  keys: SandboxPayKeyFile,
  base: string,
  overrides: { privateKey?: crypto.KeyObject; verifier?: WxPayVerifier; notifyUrl?: string; serialNo?: string } = {},
): WxPayClient {
  const m = sandboxMerchantCredentials(keys);
  return new WxPayClient({
    mchid: m.mchid,
    serialNo: overrides.serialNo ?? m.serialNo,
    privateKey: overrides.privateKey ?? m.privateKey,
    apiBase: base,
    verifier:
      overrides.verifier ??
      new WxPayVerifier({ publicKey: m.publicKey, platformCertificates: platformCertificatesFrom(m.platformCertificatePem) }),
    notifyUrl: overrides.notifyUrl ?? 'http://127.0.0.1:9/wechatpay/notify', // nothing listens: deliveries fail quietly
  });
}

export function outNo(prefix = 'T'): string {
  return `${prefix}${Date.now()}${crypto.randomBytes(4).toString('hex')}`;
}
