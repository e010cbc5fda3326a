import { buildApp } from '../../../server/app';
import { loadConfig } from '../../../server/config';
import { startEmbeddedPostgres } from '../../../server/infra/db';

/** The full app as it runs in production (DATABASE_URL / REDIS_URL when set), rate limits opened for the load. */
async function main() {
  const config = loadConfig({ ...process.env, PORT: '0', RATE_LIMIT_PER_MINUTE: '100000000', LOG_LEVEL: 'silent' });
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres('memory://');
  const app = await buildApp({ config, databaseUrl: config.databaseUrl ?? embedded!.url });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`listening ${url}\n`);
  process.on('SIGTERM', () => void app.close().then(() => embedded?.stop()).then(() => process.exit(0)));
}
void main();
