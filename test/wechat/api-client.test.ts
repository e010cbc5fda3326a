import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { createKv, type KvStore } from '../../server/infra/kv';
import { sandboxPlugin } from '../../server/sandbox/sandbox.plugin';
import { newSandboxCredentials } from '../../server/wechat/credentials';
import { OfficialAccountApi } from '../../server/wechat/oa-api';
import { WechatApiError } from '../../server/wechat/api-errors';
import { STORE_RACE } from '../helpers/race';

/** The API client against the sandbox started alone on its own port, two "instances" sharing one store. */
describe('WeChat API client: shared access token', () => {
  const credentials = newSandboxCredentials();
  let sandbox: FastifyInstance;
  let base: string;
  let kv: KvStore;
  let instances: OfficialAccountApi[];

  const stats = async () => (await (await fetch(`${base}/api/stats`)).json()) as { tokenFetches: { oa: number } };
  const control = (path: string, body?: unknown) =>
    fetch(`${base}/api${path}`, { method: 'POST', headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });

  beforeAll(async () => {
    sandbox = Fastify();
    sandbox.setValidatorCompiler(validatorCompiler);
    sandbox.setSerializerCompiler(serializerCompiler);
    await sandbox.register(sandboxPlugin, { prefix: '/sandbox', credentials, callbackUrl: 'http://127.0.0.1:9/wechat/callback', deliveryTimeoutMs: 200 });
    base = `${await sandbox.listen({ port: 0, host: '127.0.0.1' })}/sandbox`;
    kv = await createKv(process.env.REDIS_URL, `test:${randomBytes(4).toString('hex')}:`);
    const apiBase = base;
    instances = [0, 1].map(() => new OfficialAccountApi({ appid: credentials.appid, secret: credentials.secret, apiBase, kv }));
    // Followers to list.
    for (let i = 0; i < 3; i++) {
      const p = (await (await control('/people', {})).json()) as { id: string };
      await control(`/people/${p.id}/follow`, {});
    }
  });
  afterAll(async () => {
    await kv.close();
    await sandbox.close();
  });

  const twentyCalls = () => Promise.all(Array.from({ length: 20 }, (_, i) => instances[i % 2]!.listFollowers()));

  it(`fetches one token for the first 20 parallel calls of two instances: ${STORE_RACE}`, async () => {
    const before = (await stats()).tokenFetches.oa;
    const results = await twentyCalls();
    expect(results.every((r) => r.total === 3)).toBe(true);
    expect((await stats()).tokenFetches.oa - before).toBe(1);
  });

  it(`20 parallel calls with an expired shared token → exactly one token fetch: ${STORE_RACE}`, async () => {
    await kv.set(`wechat:token:${credentials.appid}`, JSON.stringify({ accessToken: 'old', expireTime: Date.now() - 1 }), 60_000);
    const before = (await stats()).tokenFetches.oa;
    await twentyCalls();
    expect((await stats()).tokenFetches.oa - before).toBe(1);
  });

  it(`20 parallel calls refused with 42001 (WeChat expired the token) → one refresh, every call retried once and answered: ${STORE_RACE}`, async () => {
    await instances[0]!.listFollowers();
    const expired = (await (await control('/tokens/expire')).json()) as { expired: number };
    expect(expired.expired).toBeGreaterThan(0);
    const before = (await stats()).tokenFetches.oa;
    const results = await twentyCalls();
    expect(results).toHaveLength(20);
    expect((await stats()).tokenFetches.oa - before).toBe(1);
  });

  it('a token WeChat does not know (40001) is replaced once too', async () => {
    await kv.set(`wechat:token:${credentials.appid}`, JSON.stringify({ accessToken: 'forged', expireTime: Date.now() + 3_600_000 }), 3_600_000);
    const before = (await stats()).tokenFetches.oa;
    await twentyCalls();
    expect((await stats()).tokenFetches.oa - before).toBe(1);
  });

  it('turns a refused credential into a typed error, and an unreachable WeChat into unavailable', async () => {
    const wrong = new OfficialAccountApi({ appid: credentials.appid, secret: 'not-the-secret', apiBase: base, kv: await createKv(undefined) });
    const err = await wrong.listFollowers().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatApiError);
    expect(err).toMatchObject({ errcode: 40125, code: 'wechat_invalid_request' });
    const down = new OfficialAccountApi({ appid: credentials.appid, secret: credentials.secret, apiBase: 'http://127.0.0.1:9', kv: await createKv(undefined), timeoutMs: 500 });
    await expect(down.listFollowers()).rejects.toMatchObject({ code: 'wechat_unreachable', statusCode: 503 });
  });

  it('stable_token: the same token until force_refresh, which is limited to once per 30 s', async () => {
    const call = async (force: boolean) =>
      (await (
        await fetch(`${base}/cgi-bin/stable_token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'client_credential', appid: credentials.appid, secret: credentials.secret, force_refresh: force }),
        })
      ).json()) as { access_token?: string; errcode?: number };
    const a = await call(false);
    const b = await call(false);
    expect(a.access_token).toBe(b.access_token);
    const c = await call(true);
    expect(c.access_token).not.toBe(a.access_token);
    expect((await call(true)).errcode).toBe(45011);
  });
});
