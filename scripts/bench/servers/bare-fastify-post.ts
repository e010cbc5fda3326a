import Fastify from 'fastify';

/** The ceiling for a POST: a bare Fastify that parses a JSON body and answers 204. */
const app = Fastify({ logger: false });
app.post('/wechatpay/notify', async (req, reply) => reply.code(204).send());
app.listen({ port: 0, host: '127.0.0.1' }).then((url) => process.stdout.write(`listening ${url}\n`));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
