import type { FastifyInstance } from 'fastify';

/**
 * Keeps request bodies of these types as the exact string that arrived (signatures cover the raw bytes).
 * Replaces any parser an enclosing scope set for them, so the plugin can be mounted anywhere.
 */
export function keepRawBody(app: FastifyInstance, types: string[], bodyLimit: number): void {
  for (const type of types) if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
  app.addContentTypeParser(types, { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
}
