import { buildApp } from './app';
import { ConfigError, loadConfig, loadDotenv } from './config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './infra/db';

/** Lines a newcomer must not miss (the sandbox's demo login), boxed on stderr beside the log. */
function printBoxed(lines: string[]): void {
  const width = Math.max(...lines.map((l) => l.length)) + 2;
  const bar = `+${'-'.repeat(width)}+`;
  process.stderr.write(`\n${bar}\n${lines.map((l) => `| ${l.padEnd(width - 1)}|`).join('\n')}\n${bar}\n\n`);
}

/** The process: config, the embedded database when no DATABASE_URL, listen, graceful shutdown. */
async function main(): Promise<void> {
  loadDotenv();
  const config = loadConfig();
  let embedded: EmbeddedPostgres | undefined;
  if (!config.databaseUrl) embedded = await startEmbeddedPostgres(config.dataDir);
  const databaseUrl = config.databaseUrl ?? embedded!.url;

  let app;
  try {
    app = await buildApp({ config, databaseUrl, announce: printBoxed, stdoutIsTerminal: process.stdout.isTTY === true });
    await app.listen({ port: config.port, host: config.host });
    await app.listenMetrics();
  } catch (err) {
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
  app.log.info(
    { database: embedded ? `embedded (${config.dataDir})` : 'postgres', store: config.redisUrl ? 'redis' : 'memory' },
    `Snowball is serving on ${config.publicUrl}`,
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) {
      app.log.warn('second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    try {
      await app.close();
      await embedded?.stop();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: Error) => {
  const message = err instanceof ConfigError ? err.message : `Snowball failed to start: ${err.message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
