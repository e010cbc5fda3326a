import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../server/app';
import { loadConfig } from '../server/config';
import { startEmbeddedPostgres } from '../server/infra/db';

/**
 * The app's OpenAPI document (every route's request and response schemas, as the server validates and serialises
 * them), read from the real app built on an in-memory embedded database and a scratch DATA_DIR of its own: the document
 * depends on the routes only, never on the run's DATABASE_URL or REDIS_URL.
 */
export async function buildOpenapiDocument(): Promise<Record<string, unknown>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-openapi-'));
  const embedded = await startEmbeddedPostgres('memory://');
  try {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, SANDBOX: 'true', QUEUE_ENABLED: 'false' });
    const app = await buildApp({ config, databaseUrl: embedded.url });
    try {
      await app.ready();
      return app.swagger() as unknown as Record<string, unknown>;
    } finally {
      await app.close();
    }
  } finally {
    await embedded.stop();
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
