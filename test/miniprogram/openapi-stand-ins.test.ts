import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { openapiMismatch } from './helpers/openapi-check';
import { loginReply, sampleMember } from './helpers/fake-wx';

/**
 * The page tests answer from stand-in replies (helpers/fake-wx.ts), each checked against the server's OpenAPI
 * document as it is given. This file checks the check, and the sample member card against a real server's card.
 */
describe('stand-in replies of the page tests', () => {
  it('are refused when the route, the status or the body is not what the server answers', () => {
    expect(openapiMismatch('GET', 'http://127.0.0.1:3000/api/mp/nothing', 200, {})).toMatch(/no such route/);
    expect(openapiMismatch('POST', 'http://127.0.0.1:3000/api/mp/check-ins', 201, {})).toBe('POST /api/mp/check-ins 201: the server answers 200, never 201');
    expect(openapiMismatch('POST', 'http://127.0.0.1:3000/api/mp/check-ins', 200, { date: '2026-11-23', streak: 1, pointsBalance: 5 })).toMatch(/must have required property 'reward'/);
    expect(openapiMismatch('POST', 'http://127.0.0.1:3000/api/mp/check-ins', 200, { date: '2026-11-23', streak: 1, reward: { points: 5, couponName: null }, pointsBalance: 5 })).toBeNull();
    expect(openapiMismatch('GET', 'http://127.0.0.1:3000/api/mp/me', 503, { code: 'unavailable' })).toMatch(/required property 'message'/);
    expect(openapiMismatch('POST', 'http://127.0.0.1:3000/api/mp/logout', 204, { ok: true })).toMatch(/a body where the server sends none/);
    expect(openapiMismatch('POST', 'http://127.0.0.1:3000/api/mp/login', 200, loginReply('tok').body)).toBeNull();
  });

  describe('the member card', () => {
    let t: SandboxTestApp;
    beforeAll(async () => {
      t = await buildSandboxApp();
    });
    afterAll(async () => t.close());

    it('has the fields, types and id format of the server’s card', async () => {
      const p = (await t.sandbox('POST', '/people', {})).body as { id: string };
      const { code } = (await t.sandbox('POST', `/people/${p.id}/login-code`, {})).body;
      const login = await t.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
      const card = (await t.app.inject({ method: 'GET', url: '/api/mp/me', headers: { authorization: `Bearer ${login.json().token}` } })).json();
      const shape = (v: Record<string, unknown>) => Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k] === null ? 'null' : typeof v[k]]));
      // Keys as the server sends them; a fresh member has no tier perks, expiring points or Taobao buyer yet (null).
      expect(Object.keys(sampleMember).sort()).toEqual(Object.keys(card).sort());
      const nullable = new Set(Object.keys(card).filter((k) => card[k] === null));
      const sample = shape(sampleMember);
      const real = shape(card);
      for (const k of Object.keys(real)) if (!nullable.has(k) && !(k in { avatarUrl: 1 })) expect([k, sample[k]]).toEqual([k, real[k]]);
      expect(card.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(sampleMember.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(login.json().member).toEqual(card);
    });
  });
});
