import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildOpenapiDocument } from '../../scripts/openapi-document';

/**
 * Once per test run: the real app's OpenAPI document (scripts/openapi-document.ts, the same one `npm run
 * gen:api-types` reads), written to a file that the mini-program tests check their stand-in replies and the generated
 * API types against. Built on an embedded database of its own, whatever the run's mode: the document does not depend
 * on it.
 */
export default async function openapiGlobalSetup(): Promise<void> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-openapi-')), 'openapi.json');
  fs.writeFileSync(file, JSON.stringify(await buildOpenapiDocument()));
  process.env.SNOWBALL_OPENAPI_FILE = file;
}
