import { buildApp } from '../../../server/app';
import { loadConfig } from '../../../server/config';
import { startEmbeddedPostgres } from '../../../server/infra/db';

/**
 * The full app as it runs in production (DATABASE_URL / REDIS_URL when set), rate limits opened for the load.
 * BENCH_PORT fixes the port, so that the app's own URL (the sandbox's WeChat API in sandbox mode) is reachable.
 * BENCH_PRODUCT_HANDLERS=false leaves the WeChat boundary bare (no module handles what arrives): the pipeline alone.
 */
async function main() {
  const port = process.env.BENCH_PORT ?? '0';
  const config = loadConfig({ ...process.env, PORT: port, RATE_LIMIT_PER_MINUTE: '100000000', LOG_LEVEL: 'silent' });
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres('memory://');
  const app = await buildApp({
    config,
    databaseUrl: config.databaseUrl ?? embedded!.url,
    productHandlers: process.env.BENCH_PRODUCT_HANDLERS !== 'false',
  });
  const url = await app.listen({ port: Number(port), host: '127.0.0.1' });
  process.stdout.write(`listening ${url}\n`);
  process.on('SIGTERM', () => void app.close().then(() => embedded?.stop()).then(() => process.exit(0)));
}
void main();
