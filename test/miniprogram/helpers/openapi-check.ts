import fs from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
}

let loaded: { doc: Doc; ajv: Ajv; routes: Array<{ path: string; pattern: RegExp }> } | undefined;
const compiled = new Map<string, ValidateFunction>();

function load() {
  if (loaded) return loaded;
  const file = process.env.SNOWBALL_OPENAPI_FILE;
  if (!file) throw new Error('no OpenAPI document: jest.config.js runs test/helpers/openapi-global-setup.ts first');
  const doc = nullableEnums(JSON.parse(fs.readFileSync(file, 'utf8'))) as Doc;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const routes = Object.keys(doc.paths).map((p) => ({ path: p, pattern: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));
  loaded = { doc, ajv, routes };
  return loaded;
}

/**
 * OpenAPI 3.0 writes a nullable enum as `{ nullable: true, enum: [...] }`, which the server answers with null; ajv
 * takes `nullable` for the type only and still holds null against the enum, so null joins such an enum here.
 */
function nullableEnums(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableEnums);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = nullableEnums(v);
  if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  return out;
}

/** Every error the server answers has this shape (server/infra/errors.ts). */
const ERROR_BODY = {
  type: 'object',
  properties: { code: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' }, message: { type: 'string', minLength: 1 } },
  required: ['code', 'message'],
};

/**
 * Why a stand-in reply for `method url` is not one the server could give, or null when it could: an undocumented
 * route or status, or a body its schema refuses (errors: the server's `{ code, message }`).
 */
export function openapiMismatch(method: string, url: string, status: number, body: unknown): string | null {
  const { doc, ajv, routes } = load();
  const pathname = new URL(url, 'http://x').pathname;
  const route = routes.find((r) => r.pattern.test(pathname));
  if (!route) return `${method} ${pathname}: no such route on the server`;
  const op = doc.paths[route.path]![method.toLowerCase()];
  if (!op) return `${method} ${pathname}: the server has no ${method} on ${route.path}`;
  const key = `${method} ${route.path} ${status}`;
  let validate = compiled.get(key);
  if (!validate) {
    const declared = op.responses?.[String(status)];
    if (!declared && status < 400) {
      return `${key}: the server answers ${Object.keys(op.responses ?? {}).join(' or ')}, never ${status}`;
    }
    const schema = status >= 400 ? ERROR_BODY : declared!.content?.['application/json']?.schema;
    validate = ajv.compile((schema ?? {}) as object);
    compiled.set(key, validate);
  }
  // A 204 carries no body (the document says null): the stand-in must not invent one.
  if (status === 204) return body === undefined || body === null || body === '' ? null : `${key}: a body where the server sends none`;
  if (validate(body)) return null;
  return `${key}: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`;
}
