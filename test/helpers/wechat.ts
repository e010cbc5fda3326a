import { randomBytes } from 'node:crypto';
import { CallbackCrypto, wechatSignature } from '../../server/wechat/callback-crypto';
import { newSandboxCredentials } from '../../server/wechat/credentials';
import { buildXml, type XmlOut } from '../../server/wechat/xml';

/** Fresh made-up WeChat credentials as env variables (made up per test run, never committed). */
export function wechatTestEnv(extra: Record<string, string> = {}) {
  const c = newSandboxCredentials();
  const env: Record<string, string> = {
    WECHAT_APPID: c.appid,
    WECHAT_SECRET: c.secret,
    WECHAT_TOKEN: c.token,
    WECHAT_AES_KEY: c.aesKey,
    MP_APPID: c.mp.appid,
    MP_SECRET: c.mp.secret,
    ...extra,
  };
  return env;
}

export function cryptoFor(env: Record<string, string>, aesKey = env.WECHAT_AES_KEY) {
  return new CallbackCrypto({ token: env.WECHAT_TOKEN!, appid: env.WECHAT_APPID!, aesKey });
}

let msgSeq = 0n;
/** A 19-digit MsgId above 2^53, unique within the run. */
export const bigMsgId = () => (6054768590064713728n + BigInt(Date.now()) * 1000n + msgSeq++).toString();

export function textMessage(openid: string, content: string, msgId = bigMsgId(), createTime = Math.floor(Date.now() / 1000)): string {
  return buildXml({ ToUserName: 'gh_test', FromUserName: openid, CreateTime: createTime, MsgType: 'text', Content: content, MsgId: BigInt(msgId) });
}

export function eventMessage(openid: string, event: string, extra: Record<string, XmlOut> = {}, createTime = Math.floor(Date.now() / 1000)): string {
  return buildXml({ ToUserName: 'gh_test', FromUserName: openid, CreateTime: createTime, MsgType: 'event', Event: event, ...extra });
}

/** A signed callback request as WeChat sends it: plaintext (mode raw) or safe mode (aes). */
export function signedCallback(
  env: Record<string, string>,
  xml: string,
  opts: { mode?: 'raw' | 'aes'; timestamp?: string; nonce?: string; aesKey?: string } = {},
): { url: string; payload: string; crypto: CallbackCrypto; timestamp: string; nonce: string } {
  const timestamp = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? String(randomBytes(4).readUInt32BE(0));
  const token = env.WECHAT_TOKEN!;
  const signature = wechatSignature(token, timestamp, nonce);
  const crypto = cryptoFor(env, opts.aesKey);
  if ((opts.mode ?? 'aes') === 'raw') {
    return { url: `/wechat/callback?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=o1`, payload: xml, crypto, timestamp, nonce };
  }
  const encrypted = crypto.encrypt(xml);
  const payload = buildXml({ ToUserName: 'gh_test', Encrypt: encrypted });
  const msgSignature = wechatSignature(token, timestamp, nonce, encrypted);
  return {
    url: `/wechat/callback?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=o1&encrypt_type=aes&msg_signature=${msgSignature}`,
    payload,
    crypto,
    timestamp,
    nonce,
  };
}
