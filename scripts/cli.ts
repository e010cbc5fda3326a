import { loadConfig, loadDotenv, type Config } from '../server/config';
import { connectAndMigrate, createDataSource, startEmbeddedPostgres, type EmbeddedPostgres } from '../server/infra/db';
import { entities } from '../server/modules';
import { migrations } from '../migrations';
import type { DataSource } from 'typeorm';
import { dataDirOwner } from '../server/infra/data-dir';

/**
 * Opens the configured database for a one-shot command and migrates it first: DATABASE_URL; else the embedded one,
 * through the running server's database socket when a server owns DATA_DIR, or opened by the command itself.
 */
export async function openCliDatabase(): Promise<{ config: Config; dataSource: DataSource; close(): Promise<void> }> {
  loadDotenv();
  const config = loadConfig();
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    // Embedded: the directory has one owner. A running server lends its database socket; else the command owns it.
    const owner = dataDirOwner(config.dataDir);
    if (owner?.role === 'server') {
      if (!owner.databaseUrl) throw new Error(`A Snowball server (pid ${owner.pid}) is starting on DATA_DIR ${config.dataDir}: run the command again once it is up`);
      url = owner.databaseUrl;
      process.stderr.write(`DATA_DIR ${config.dataDir} belongs to the running Snowball server (pid ${owner.pid}): working through its database\n`);
    } else {
      embedded = await startEmbeddedPostgres(config.dataDir, 4, process.env.npm_lifecycle_event || 'a command');
      url = embedded.url;
    }
  }
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
