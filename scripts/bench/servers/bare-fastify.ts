import Fastify from 'fastify';

/** The ceiling: a bare Fastify answering the same JSON as /healthz, and `success` to any callback body. */
const app = Fastify();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/wechat/callback', async (_req, reply) => reply.type('text/plain').send('success'));
app.listen({ port: 0, host: '127.0.0.1' }).then((url) => process.stdout.write(`listening ${url}\n`));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
