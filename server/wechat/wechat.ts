import type { FastifyBaseLogger } from 'fastify';
import type { WechatConfig } from '../config';
import type { KvStore } from '../infra/kv';
import { CallbackCrypto } from './callback-crypto';
import { WechatCallbackService } from './callback.service';
import type { WechatCredentials } from './credentials';
import { InboundDispatcher } from './inbound';
import { MiniProgramApi } from './mp-api';
import { OfficialAccountApi } from './oa-api';

/** Everything that speaks WeChat, as one service: modules use `oa`, `mp` and register on `inbound`. */
export interface Wechat {
  readonly credentials: WechatCredentials;
  readonly oa: OfficialAccountApi;
  /** Absent when no mini-program is configured. */
  readonly mp?: MiniProgramApi;
  /** Where modules register their handlers of inbound events and messages. */
  readonly inbound: InboundDispatcher;
  readonly callback: WechatCallbackService;
}

export function createWechat(opts: {
  config: WechatConfig;
  credentials: WechatCredentials;
  kv: KvStore;
  log: FastifyBaseLogger;
}): Wechat {
  const { config, credentials: c, kv } = opts;
  const inbound = new InboundDispatcher();
  const crypto = new CallbackCrypto({ token: c.token, appid: c.appid, aesKey: c.aesKey, aesKeyPrevious: c.aesKeyPrevious });
  return {
    credentials: c,
    oa: new OfficialAccountApi({ appid: c.appid, secret: c.secret, apiBase: config.apiBase, kv }),
    mp: c.mp ? new MiniProgramApi({ appid: c.mp.appid, secret: c.mp.secret, apiBase: config.apiBase, kv }) : undefined,
    inbound,
    callback: new WechatCallbackService({ crypto, kv, dispatcher: inbound, log: opts.log, maxAgeSeconds: config.callbackMaxAgeSeconds }),
  };
}
