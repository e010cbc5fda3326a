import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { loadConfig, loadDotenv } from '../server/config';
import { resolveWechatCredentials } from '../server/wechat/credentials';
import { sandboxPlugin } from '../server/sandbox/sandbox.plugin';

/**
 * The sandbox alone on its own port (SANDBOX_PORT, default 3100), playing the accounts of the app's config
 * (the same DATA_DIR/sandbox-wechat.json, or the WECHAT_* variables) and delivering to SANDBOX_CALLBACK_URL
 * (default PUBLIC_URL/wechat/callback). Point the app at it with WECHAT_API_BASE=http://127.0.0.1:3100/sandbox.
 */
async function main() {
  loadDotenv();
  const config = loadConfig({ ...process.env, SANDBOX: process.env.SANDBOX ?? 'true' });
  if (config.env === 'production') throw new Error('The sandbox never runs with NODE_ENV=production');
  const credentials = resolveWechatCredentials(config.wechat, config.dataDir);
  const app = Fastify({ logger: { level: config.logLevel } });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const callbackUrl = process.env.SANDBOX_CALLBACK_URL ?? `${config.publicUrl}/wechat/callback`;
  await app.register(sandboxPlugin, { prefix: '/sandbox', credentials, callbackUrl });
  const port = Number(process.env.SANDBOX_PORT ?? 3100);
  const url = await app.listen({ port, host: config.host });
  process.stdout.write(`sandbox listening ${url}/sandbox (delivering to ${callbackUrl})\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
