import type { Ctx } from '../../server/infra/db';
import { appModules } from '../../server/app';
import { defineModule } from '../../server/modules/module';
import { parseWechatXml } from '../../server/wechat/xml';
import { buildTestApp, type TestApp } from '../helpers/app';
import { waitFor } from '../helpers/wait';
import { eventMessage, signedCallback, wechatTestEnv } from '../helpers/wechat';

/** The fixture's notes, kept in memory: a module of its own, as small as a module gets. */
class Notes {
  readonly byMember = new Map<string, string[]>();
  add(memberId: string, text: string): void {
    this.byMember.set(memberId, [...(this.byMember.get(memberId) ?? []), text]);
  }
}

declare module '../../server/modules/module' {
  interface Services {
    /** Only in this test's app. */
    fixtureNotes?: Notes;
  }
}

const NOTE_JOB = 'fixture.note';

/** A module written as a test fixture: a route, a job, a privacy hook and a WeChat handler, over the member ledger. */
const fixtureModule = defineModule({
  name: 'fixture',
  needs: ({ services }) => ({
    memberOfOaOpenid: (ctx: Ctx, openid: string) => services.members.findByIdentity(ctx, 'oa_openid', openid),
  }),
  services: () => ({ fixtureNotes: new Notes() }),
  jobs: ({ services }) => [
    { name: NOTE_JOB, handler: async ({ memberId, text }: { memberId: string; text: string }) => services.fixtureNotes!.add(memberId, text) },
  ],
  async adminRoutes(scope, { infra, services }) {
    scope.post<{ Body: { memberId: string; text: string } }>('/fixture/notes', async (req, reply) => {
      await infra.queue.send({}, NOTE_JOB, { memberId: req.body.memberId, text: req.body.text });
      return reply.code(202).send({ queued: true });
    });
    scope.get<{ Params: { memberId: string } }>('/fixture/notes/:memberId', async (req) => ({ notes: services.fixtureNotes!.byMember.get(req.params.memberId) ?? [] }));
  },
  wechatInbound(inbound, { services, ports }) {
    inbound.onEvent('CLICK', async (msg, ctx) => {
      const memberId = await ports.memberOfOaOpenid(ctx, msg.openid);
      if (!memberId) return undefined;
      services.fixtureNotes!.add(memberId, `menu ${msg.eventKey}`);
      return { type: 'text', content: `noted ${msg.eventKey}` };
    });
  },
  privacy: ({ services }) => [
    {
      name: 'fixture',
      tables: {},
      export: async (_ctx, id) => ({ notes: services.fixtureNotes!.byMember.get(id) ?? [] }),
      erase: async (_ctx, id) => ({ notes: Number(services.fixtureNotes!.byMember.delete(id)) }),
      merge: async (_ctx, survivorId, otherId) => {
        for (const n of services.fixtureNotes!.byMember.get(otherId) ?? []) services.fixtureNotes!.add(survivorId, n);
        services.fixtureNotes!.byMember.delete(otherId);
      },
    },
  ],
});

describe('a module registers with one line', () => {
  const env = wechatTestEnv({ SANDBOX: 'false' });
  let t: TestApp;
  let auth: { authorization: string };
  let memberId: string;

  beforeAll(async () => {
    t = await buildTestApp(env, undefined, { modules: [...appModules, fixtureModule] });
    auth = await t.ownerAuth();
    memberId = (await t.app.services.members.findOrCreateByOpenid({}, { app: 'oa', openid: 'o-fixture' })).memberId;
  });
  afterAll(async () => t?.close());

  it('serves its admin route behind the staff session', async () => {
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/fixture/notes/${memberId}` })).statusCode).toBe(401);
    const res = await t.app.inject({ method: 'GET', url: `/api/admin/fixture/notes/${memberId}`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ notes: [] });
  });

  it('runs its job on the real queue', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/fixture/notes', headers: auth, payload: { memberId, text: 'from the console' } });
    expect(res.statusCode).toBe(202);
    await waitFor('the queued note', async () => {
      const notes = (await t.app.inject({ method: 'GET', url: `/api/admin/fixture/notes/${memberId}`, headers: auth })).json().notes as string[];
      return notes.includes('from the console');
    });
  });

  it('answers what WeChat sends through its handler', async () => {
    const req = signedCallback(env, eventMessage('o-fixture', 'CLICK', { EventKey: 'V1001' }));
    const res = await t.app.inject({ method: 'POST', url: req.url, payload: req.payload, headers: { 'content-type': 'text/xml' } });
    expect(res.statusCode).toBe(200);
    const envelope = parseWechatXml(res.body) as Record<string, string>;
    expect(parseWechatXml(req.crypto.decrypt(envelope.Encrypt!).message).Content).toBe('noted V1001');
    expect(t.app.services.fixtureNotes!.byMember.get(memberId)).toContain('menu V1001');
  });

  it("takes part in the member's export and erasure", async () => {
    const exported = await t.app.inject({ method: 'GET', url: `/api/admin/members/${memberId}/export`, headers: auth });
    expect(exported.statusCode).toBe(200);
    expect(exported.json().fixture).toEqual({ notes: expect.arrayContaining(['from the console', 'menu V1001']) });
    const erased = await t.app.inject({ method: 'POST', url: `/api/admin/members/${memberId}/erase`, headers: auth, payload: { reason: 'asked by the member', confirm: true } });
    expect(erased.statusCode).toBe(200);
    expect(t.app.services.fixtureNotes!.byMember.has(memberId)).toBe(false);
  });

  it('refuses a second module of the same name', async () => {
    await expect(buildTestApp(env, undefined, { modules: [...appModules, fixtureModule, fixtureModule] })).rejects.toThrow('module "fixture" is listed twice');
  });
});
