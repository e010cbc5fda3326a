import Fastify from 'fastify';

/** The ceiling: a bare Fastify answering the same JSON as /healthz. */
const app = Fastify();
app.get('/healthz', async () => ({ status: 'ok' }));
app.listen({ port: 0, host: '127.0.0.1' }).then((url) => process.stdout.write(`listening ${url}\n`));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
