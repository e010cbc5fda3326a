import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { MemoryKv } from '../../../server/infra/kv';
import { CallbackCrypto } from '../../../server/wechat/callback-crypto';
import { WechatCallbackService } from '../../../server/wechat/callback.service';
import { InboundDispatcher } from '../../../server/wechat/inbound';
import { wechatCallbackRoutes } from '../../../server/wechat/callback.routes';

/** Snowball's callback route alone on a bare Fastify: what the pipeline costs without the app around it. */
const app = Fastify();
app.setValidatorCompiler(validatorCompiler);
app.setSerializerCompiler(serializerCompiler);
const crypto = new CallbackCrypto({ token: process.env.WECHAT_TOKEN!, appid: process.env.WECHAT_APPID!, aesKey: process.env.WECHAT_AES_KEY });
const callback = new WechatCallbackService({ crypto, kv: new MemoryKv(), dispatcher: new InboundDispatcher(), log: app.log, maxAgeSeconds: 300 });
void app.register(wechatCallbackRoutes, { callback, appLogLevel: 'silent' });
app.listen({ port: 0, host: '127.0.0.1' }).then((url) => process.stdout.write(`listening ${url}\n`));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
