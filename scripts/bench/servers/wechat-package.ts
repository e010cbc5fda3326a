import Fastify from 'fastify';

/**
 * The peer: the `wechat` package (node-webot) on Fastify doing the same job as Snowball's callback — verify,
 * decrypt, parse, dedupe (an in-process map, cheaper than a shared store), answer — on the same payloads.
 */
const wechat = require('wechat') as (config: object, handler: (req: any, res: any, next: (err?: unknown) => void) => void) => (req: any, res: any, next: (err?: unknown) => void) => void;

const seen = new Map<string, true>();
const middleware = wechat(
  { token: process.env.WECHAT_TOKEN, appid: process.env.WECHAT_APPID, encodingAESKey: process.env.WECHAT_AES_KEY, checkSignature: true },
  (req, res) => {
    const m = req.weixin as Record<string, string>;
    const key = m.MsgId ? `m:${m.MsgId}` : `e:${m.FromUserName}:${m.CreateTime}:${m.Event}`;
    if (!seen.has(key)) seen.set(key, true);
    res.reply('');
  },
);

const app = Fastify();
app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
app.post('/wechat/callback', (req, reply) => {
  reply.hijack();
  const raw = req.raw as typeof req.raw & { query?: unknown; rawBody?: unknown };
  raw.query = req.query;
  raw.rawBody = req.body;
  middleware(raw, reply.raw, (err) => {
    reply.raw.statusCode = 500;
    reply.raw.end(String(err));
  });
});
app.listen({ port: 0, host: '127.0.0.1' }).then((url) => process.stdout.write(`listening ${url}\n`));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
