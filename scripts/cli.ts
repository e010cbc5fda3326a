import { loadConfig, loadDotenv, type Config } from '../server/config';
import { connectAndMigrate, createDataSource, startEmbeddedPostgres, type EmbeddedPostgres } from '../server/infra/db';
import { entities } from '../server/modules';
import { migrations } from '../migrations';
import type { DataSource } from 'typeorm';

/** Opens the configured database (embedded when no DATABASE_URL) for a one-shot command; migrates it first. */
export async function openCliDatabase(): Promise<{ config: Config; dataSource: DataSource; close(): Promise<void> }> {
  loadDotenv();
  const config = loadConfig();
  let embedded: EmbeddedPostgres | undefined;
  if (!config.databaseUrl) embedded = await startEmbeddedPostgres(config.dataDir, 4);
  const url = config.databaseUrl ?? embedded!.url;
  const dataSource = createDataSource({ url, poolSize: 3, entities, migrations, applicationName: 'snowball-cli' });
  try {
    await connectAndMigrate(dataSource, url);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  return {
    config,
    dataSource,
    async close() {
      await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

/** Runs a CLI body; prints a one-line error and exits 1 on failure. */
export function runCli(body: () => Promise<void>): void {
  body().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
