import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Once per test run: the real app's OpenAPI document (every route's request and response schemas, as the server
 * validates and serialises them), written to a file the mini-program tests check their stand-in replies against.
 * Built on an embedded database of its own, whatever the run's mode: the document does not depend on it.
 */
export default async function openapiGlobalSetup(): Promise<void> {
  const saved = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };
  delete process.env.DATABASE_URL;
  delete process.env.REDIS_URL;
  try {
    const { buildTestApp } = await import('./app');
    const t = await buildTestApp({ SANDBOX: 'true', QUEUE_ENABLED: 'false' });
    try {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-openapi-')), 'openapi.json');
      fs.writeFileSync(file, JSON.stringify(t.app.swagger()));
      process.env.SNOWBALL_OPENAPI_FILE = file;
    } finally {
      await t.close();
    }
  } finally {
    if (saved.DATABASE_URL !== undefined) process.env.DATABASE_URL = saved.DATABASE_URL;
    if (saved.REDIS_URL !== undefined) process.env.REDIS_URL = saved.REDIS_URL;
  }
}
