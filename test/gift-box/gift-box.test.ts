import { auditLedger } from '../../server/modules/points/points-audit';
import { PRIVACY_NOTICE_VERSION } from '../../server/modules/mp-session/mp-session.service';
import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { PG_RACE, watchConnections } from '../helpers/race';

interface Member {
  id: string;
  auth: { authorization: string };
}

/** The nine-friend gift box through the real app: sandbox logins, the real points ledger, the real database. */
describe('gift box (拆礼盒)', () => {
  let t: SandboxTestApp;
  let owner: { authorization: string };
  // The app's clock runs with the real one, shifted when a test lets a campaign end.
  let offsetMs = 0;

  beforeAll(async () => {
    t = await buildSandboxApp({}, { clock: () => new Date(Date.now() + offsetMs) });
    owner = await t.ownerAuth();
  });
  afterAll(async () => t.close());
  afterEach(() => {
    offsetMs = 0;
  });

  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);
  const inject = (o: { method: 'GET' | 'POST' | 'PUT'; url: string; headers?: Record<string, string>; payload?: object; remoteAddress?: string }) => t.app.inject(o);
  // Each phone logs in from its own address (the login's per-address budget is a phone's, not a crowd's).
  let logins = 0;
  const phoneAddress = () => `10.14.${Math.floor(++logins / 250)}.${logins % 250}`;

  /** Members logged in through the sandbox (a wx.login code each) who accepted the privacy notice. */
  async function members(n: number, nickname?: string): Promise<Member[]> {
    const people = (await t.sandbox('POST', '/people/crowd', { count: n })).body.people as Array<{ id: string }>;
    const out: Member[] = [];
    for (let i = 0; i < people.length; i += 25) {
      out.push(
        ...(await Promise.all(
          people.slice(i, i + 25).map(async (p) => {
            const { code } = (await t.sandbox('POST', `/people/${p.id}/login-code`, {})).body;
            const res = await inject({ method: 'POST', url: '/api/mp/login', payload: { code }, remoteAddress: phoneAddress() });
            expect(res.statusCode).toBe(200);
            const auth = { authorization: `Bearer ${res.json().token}` };
            expect((await inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: auth, payload: { version: PRIVACY_NOTICE_VERSION } })).statusCode).toBe(204);
            if (nickname) expect((await inject({ method: 'PUT', url: '/api/mp/me/profile', headers: auth, payload: { nickname } })).statusCode).toBe(200);
            return { id: res.json().member.id as string, auth };
          }),
        )),
      );
    }
    return out;
  }
  const member = async (nickname?: string) => (await members(1, nickname))[0]!;

  async function campaign(over: Record<string, unknown> = {}): Promise<{ id: string; helpsRequired: number }> {
    const res = await inject({
      method: 'POST',
      url: '/api/admin/gift-box-campaigns',
      headers: owner,
      payload: {
        name: '九人拆礼盒',
        rules: '邀请 9 位好友帮你拆礼盒，拆开即得 100 积分；活动结束时未拆开的礼盒失效。',
        reward: { kind: 'points', points: 100 },
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        helpsPerHelper: 100,
        ...over,
      },
    });
    expect(res.statusCode).toBe(201);
    return res.json();
  }
  const start = (m: Member, campaignId: string, parentBoxId?: string) =>
    inject({ method: 'POST', url: '/api/mp/gift-boxes', headers: m.auth, payload: parentBoxId ? { campaignId, parentBoxId } : { campaignId } });
  const help = (m: Member, boxId: string) => inject({ method: 'POST', url: `/api/mp/gift-boxes/${boxId}/helps`, headers: m.auth });
  const balance = async (m: Member) => (await inject({ method: 'GET', url: '/api/mp/me', headers: m.auth })).json().pointsBalance as number;

  it('the flow: nine friends help, the box unlocks and the owner gets the points once; helpers show as nickname and avatar', async () => {
    const c = await campaign();
    expect(c).toMatchObject({ helpsRequired: 9, reward: { kind: 'points', points: 100 }, newMembersOnly: false, stock: null, status: 'running' });
    const me = await member('礼盒主人');
    const started = await start(me, c.id);
    expect(started.statusCode).toBe(201);
    expect(started.json()).toMatchObject({ status: 'open', helpsRequired: 9, helps: 0 });
    const boxId = started.json().id as string;
    const friends = await members(10, '拆盒好友');

    // Opening the page counts for nothing.
    const seen = await inject({ method: 'GET', url: `/api/mp/gift-boxes/${boxId}`, headers: friends[0]!.auth });
    expect(seen.json()).toMatchObject({ id: boxId, status: 'open', helps: 0, helpsRequired: 9, helpers: [], mine: false, reward: { kind: 'points', points: 100 } });
    expect(seen.json().rules).toContain('9 位好友');
    expect(seen.json().endsAt).toBe(new Date(seen.json().endsAt).toISOString());

    for (let i = 0; i < 8; i++) expect((await help(friends[i]!, boxId)).json()).toEqual({ helps: i + 1, status: 'open' });
    expect(await balance(me)).toBe(0);
    const last = await help(friends[8]!, boxId);
    expect(last.statusCode).toBe(200);
    expect(last.json()).toEqual({ helps: 9, status: 'rewarded' });
    expect(await balance(me)).toBe(100);

    const full = await help(friends[9]!, boxId);
    expect(full.statusCode).toBe(409);
    expect(full.json().code).toBe('box_full');
    const again = await help(friends[0]!, boxId);
    expect(again.statusCode).toBe(409);
    expect(['already_helped', 'box_full']).toContain(again.json().code);

    const view = (await inject({ method: 'GET', url: `/api/mp/gift-boxes/${boxId}`, headers: me.auth })).json();
    expect(view).toMatchObject({ status: 'rewarded', helps: 9, mine: true });
    expect(view.helpers).toHaveLength(9);
    for (const h of view.helpers) expect(Object.keys(h).sort()).toEqual(['avatarUrl', 'nickname']);
    expect(view.helpers[0].nickname).toBe('拆盒好友');
    expect((await inject({ method: 'GET', url: '/api/mp/gift-boxes', headers: me.auth })).json().items).toEqual([
      expect.objectContaining({ id: boxId, status: 'rewarded', helps: 9, campaignName: '九人拆礼盒' }),
    ]);
    expect(await q('SELECT count(*)::int AS n FROM points_transaction WHERE idempotency_key = $1', [`gift-box:${boxId}`])).toEqual([{ n: 1 }]);
    // One box per member by default.
    const second = await start(me, c.id);
    expect(second.statusCode).toBe(409);
    expect(second.json().code).toBe('box_limit_reached');
  });

  it('refuses the owner (own_box), a second help (already_helped), an unknown box (404) and bad input', async () => {
    const c = await campaign();
    const [me, friend] = await members(2);
    const boxId = (await start(me!, c.id)).json().id as string;
    const own = await help(me!, boxId);
    expect(own.statusCode).toBe(409);
    expect(own.json().code).toBe('own_box');
    expect((await help(friend!, boxId)).json()).toEqual({ helps: 1, status: 'open' });
    const twice = await help(friend!, boxId);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('already_helped');
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      const unknown = await help(friend!, id);
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().code).toBe('box_not_found');
      expect((await inject({ method: 'GET', url: `/api/mp/gift-boxes/${id}`, headers: friend!.auth })).statusCode).toBe(404);
    }
    expect((await start(friend!, '00000000-0000-4000-8000-000000000000')).json().code).toBe('campaign_not_found');
    const badParent = await start(friend!, c.id, '00000000-0000-4000-8000-000000000000');
    expect(badParent.statusCode).toBe(404);
    expect(badParent.json().code).toBe('parent_box_not_found');
    // A lottery or a coupon are not rewards this campaign takes; helpers are a fixed number.
    const coupon = await inject({ method: 'POST', url: '/api/admin/gift-box-campaigns', headers: owner, payload: { name: 'x', rules: 'y', reward: { kind: 'coupon' }, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 1000).toISOString() } });
    expect(coupon.statusCode).toBe(400);
    const backwards = await inject({ method: 'POST', url: '/api/admin/gift-box-campaigns', headers: owner, payload: { name: 'x', rules: 'y', reward: { kind: 'points', points: 1 }, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() - 1000).toISOString() } });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().code).toBe('ends_before_start');
    // Nothing counted for the refusals.
    expect(await q('SELECT helps, status FROM gift_box WHERE id = $1', [boxId])).toEqual([{ helps: 1, status: 'open' }]);
  });

  it('a help needs the privacy notice accepted (the owner sees the helper) and a session', async () => {
    const c = await campaign();
    const me = await member();
    const boxId = (await start(me, c.id)).json().id as string;
    const p = (await t.sandbox('POST', '/people', {})).body as { id: string };
    const { code } = (await t.sandbox('POST', `/people/${p.id}/login-code`, {})).body;
    const login = await inject({ method: 'POST', url: '/api/mp/login', payload: { code }, remoteAddress: phoneAddress() });
    const fresh = { id: login.json().member.id, auth: { authorization: `Bearer ${login.json().token}` } };
    const refused = await help(fresh, boxId);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('privacy_consent_required');
    expect((await inject({ method: 'POST', url: `/api/mp/gift-boxes/${boxId}/helps` })).statusCode).toBe(401);
    expect(await q('SELECT helps FROM gift_box WHERE id = $1', [boxId])).toEqual([{ helps: 0 }]);
  });

  it('at the campaign’s end an open box expires: no more helps, its reserved reward goes back to the stock', async () => {
    const c = await campaign({ stock: 2, helpsRequired: 2 });
    const [a, b, c3, friend] = await members(4);
    const boxA = (await start(a!, c.id)).json().id as string;
    expect((await start(b!, c.id)).statusCode).toBe(201);
    const none = await start(c3!, c.id);
    expect(none.statusCode).toBe(409);
    expect(none.json().code).toBe('out_of_stock');
    expect((await help(friend!, boxA)).json()).toEqual({ helps: 1, status: 'open' });

    offsetMs = 2 * 3_600_000;
    const late = await help(c3!, boxA);
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('box_expired');
    expect((await inject({ method: 'GET', url: `/api/mp/gift-boxes/${boxA}`, headers: a!.auth })).json()).toMatchObject({ status: 'expired', helps: 1 });
    expect(await q('SELECT status FROM gift_box WHERE campaign_id = $1 ORDER BY created_at', [c.id])).toEqual([{ status: 'expired' }, { status: 'open' }]);
    // The job expires the rest (b's box; a's expired when it was asked about).
    expect(await t.app.services.giftBox.expireEnded({})).toBeGreaterThanOrEqual(1);
    expect(await q('SELECT status FROM gift_box WHERE campaign_id = $1 ORDER BY created_at', [c.id])).toEqual([{ status: 'expired' }, { status: 'expired' }]);
    expect((await inject({ method: 'GET', url: `/api/admin/gift-box-campaigns/${c.id}`, headers: owner })).json()).toMatchObject({ reserved: 0, status: 'ended' });
    expect((await start(c3!, c.id)).json().code).toBe('campaign_ended');
    expect(await balance(a!)).toBe(0);
  });

  it('new members only: a member who joined before the campaign began cannot help', async () => {
    const [me, old] = await members(2);
    const c = await campaign({ newMembersOnly: true, startsAt: new Date(Date.now() + 1_200).toISOString() });
    await new Promise((r) => setTimeout(r, 1_300));
    const boxId = (await start(me!, c.id)).json().id as string;
    const refused = await help(old!, boxId);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('new_members_only');
    const newcomer = await member();
    expect((await help(newcomer, boxId)).json()).toEqual({ helps: 1, status: 'open' });
    expect((await inject({ method: 'GET', url: `/api/admin/gift-box-campaigns/${c.id}/figures`, headers: owner })).json()).toMatchObject({ helps: 1, newMembers: 1 });
  });

  it('one person is one member: after a merge either way the owner cannot help their box, and two helps of one person stay one row', async () => {
    const c = await campaign();
    const [o1, o2, h1, h2, o3, o4] = await members(6);
    const box = (await start(o1!, c.id)).json().id as string;
    // o2 (the same person, found twice) merged into the box's owner: o2's session is now the owner's.
    await t.app.services.members.merge({}, o1!.id, o2!.id, { reason: 'same person', actor: 'test' });
    const viaMerged = await help(o2!, box);
    expect(viaMerged.statusCode).toBe(409);
    expect(viaMerged.json().code).toBe('own_box');
    // The owner merged into another member: the box goes with them, and that member is its owner.
    const box3 = (await start(o3!, c.id)).json().id as string;
    await t.app.services.members.merge({}, o4!.id, o3!.id, { reason: 'same person', actor: 'test' });
    expect((await help(o4!, box3)).json().code).toBe('own_box');
    expect(await q('SELECT owner_member_id FROM gift_box WHERE id = $1', [box3])).toEqual([{ owner_member_id: o4!.id }]);
    // Two identities of one helper helped the same box; merged, one help row stays and no third help counts.
    expect((await help(h1!, box)).statusCode).toBe(200);
    expect((await help(h2!, box)).statusCode).toBe(200);
    await t.app.services.members.merge({}, h1!.id, h2!.id, { reason: 'same person', actor: 'test' });
    expect(await q('SELECT helper_member_id FROM gift_box_help WHERE box_id = $1', [box])).toEqual([{ helper_member_id: h1!.id }]);
    expect((await help(h2!, box)).json().code).toBe('already_helped');
    expect(await q('SELECT campaign_id, member_id, helps FROM gift_box_member WHERE member_id = ANY($1::uuid[])', [[h1!.id, h2!.id]])).toEqual([
      { campaign_id: c.id, member_id: h1!.id, helps: 2 },
    ]);
  });

  it('fission: a helper’s box records its parent; figures count boxes, helps, K-factor and depth; the tree shows the boxes', async () => {
    const c = await campaign({ helpsRequired: 1 });
    const [a, b, d] = await members(3);
    const boxA = (await start(a!, c.id)).json().id as string;
    expect((await help(b!, boxA)).json()).toEqual({ helps: 1, status: 'rewarded' });
    const boxB = (await start(b!, c.id, boxA)).json().id as string;
    expect((await help(d!, boxB)).json()).toEqual({ helps: 1, status: 'rewarded' });
    const boxD = (await start(d!, c.id, boxB)).json().id as string;
    const other = await campaign();
    const cross = await start(a!, other.id, boxA);
    expect(cross.statusCode).toBe(400);
    expect(cross.json().code).toBe('parent_box_other_campaign');

    const f = (await inject({ method: 'GET', url: `/api/admin/gift-box-campaigns/${c.id}/figures`, headers: owner })).json();
    expect(f).toMatchObject({ boxesStarted: 3, boxesUnlocked: 2, boxesRewarded: 2, helps: 2, helpers: 2, newMembers: 2, pointsIssued: 200, pointsPerNewMember: 100, kFactor: 0.667, treeDepth: 3 });
    expect(f.byHour.reduce((s: number, h: { boxesStarted: number }) => s + h.boxesStarted, 0)).toBe(3);
    const tree = (await inject({ method: 'GET', url: `/api/admin/gift-boxes/${boxA}/tree`, headers: owner })).json();
    expect(tree).toEqual({
      rootBoxId: boxA,
      boxes: [
        expect.objectContaining({ id: boxA, parentBoxId: null, depth: 1, ownerMemberId: a!.id, status: 'rewarded' }),
        expect.objectContaining({ id: boxB, parentBoxId: boxA, depth: 2, ownerMemberId: b!.id }),
        expect.objectContaining({ id: boxD, parentBoxId: boxB, depth: 3, status: 'open' }),
      ],
    });
    expect((await inject({ method: 'GET', url: '/api/admin/gift-box-campaigns', headers: owner })).json().items.map((x: { id: string }) => x.id)).toContain(c.id);
  });

  it('the same helper tapping 20 times at once counts one help', async () => {
    const c = await campaign();
    const [me, friend] = await members(2);
    const boxId = (await start(me!, c.id)).json().id as string;
    const taps = await Promise.all(Array.from({ length: 20 }, () => help(friend!, boxId)));
    expect(taps.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(taps.filter((r) => r.statusCode === 409).map((r) => r.json().code)).toEqual(Array(19).fill('already_helped'));
    expect(await q('SELECT helps FROM gift_box WHERE id = $1', [boxId])).toEqual([{ helps: 1 }]);
  });

  const HELPERS = process.env.DATABASE_URL ? 1000 : 60;
  it(`${HELPERS} distinct members helping one box at once: exactly 9 helps, one reward, the rest box_full, no 5xx: ${PG_RACE}`, async () => {
    const c = await campaign();
    const me = await member();
    const boxId = (await start(me, c.id)).json().id as string;
    const crowd = await members(HELPERS);
    const race = watchConnections(t.app);
    const started = Date.now();
    const res = await Promise.all(crowd.map((m) => help(m, boxId)));
    const ms = Date.now() - started;
    race.done();
    const codes = res.map((r) => r.statusCode);
    expect(codes.filter((s) => s >= 500)).toEqual([]);
    expect(codes.filter((s) => s === 200)).toHaveLength(9);
    expect(res.filter((r) => r.statusCode === 409 && r.json().code === 'box_full')).toHaveLength(HELPERS - 9);
    expect(res.filter((r) => r.statusCode === 200).map((r) => r.json().helps).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(res.find((r) => r.statusCode === 200 && r.json().helps === 9)!.json().status).toBe('rewarded');
    expect(await q('SELECT helps, status FROM gift_box WHERE id = $1', [boxId])).toEqual([{ helps: 9, status: 'rewarded' }]);
    expect(await q('SELECT count(*)::int AS n FROM gift_box_help WHERE box_id = $1', [boxId])).toEqual([{ n: 9 }]);
    expect(await q('SELECT count(*)::int AS n FROM points_transaction WHERE idempotency_key = $1', [`gift-box:${boxId}`])).toEqual([{ n: 1 }]);
    expect(await balance(me)).toBe(100);
    expect((await auditLedger(t.app.infra.db)).differences).toEqual([]);
    // Those refused can still help elsewhere: their per-campaign count was rolled back with the help.
    expect(await q('SELECT count(*)::int AS n FROM gift_box_member WHERE campaign_id = $1 AND helps > 0', [c.id])).toEqual([{ n: 9 }]);
    process.stdout.write(`gift-box race: ${HELPERS} helpers in ${ms} ms\n`);
  }, 240_000);
});
