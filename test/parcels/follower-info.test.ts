import { buildSandboxApp, type SandboxTestApp } from '../helpers/sandbox';
import { eventMessage, signedCallback } from '../helpers/wechat';
import { PG_RACE } from '../helpers/race';

/**
 * Follower info (the unionid) and the member behind each follower come from a sweep, off the callback path:
 * 100 followers per user/info/batchget call. The queue's workers are off here so that each sweep is run by the
 * test; the parcel journey shows the queued one.
 */
describe('parcel follows: the callback path and the follower info sweep', () => {
  let t: SandboxTestApp;
  let ticket: string;
  const q = (sql: string, params: unknown[] = []) => t.app.infra.db.dataSource.query(sql, params);
  const sweep = () => t.app.services.parcels.fetchFollowersInfo({});
  const scan = async (id: string) => {
    const res = await t.sandbox('POST', `/people/${id}/scan`, { ticket });
    expect(res.status).toBe(200);
  };
  const follower = async (openid: string) =>
    (await q('SELECT unionid, member_id, info_fetched_at FROM oa_follower WHERE openid = $1', [openid]))[0];
  const setQuota = (limit: number) => t.sandbox('PUT', '/quotas/user_info', { limit });

  beforeAll(async () => {
    t = await buildSandboxApp({ QUEUE_ENABLED: 'false' });
    const batch = await t.app.inject({
      method: 'POST',
      url: '/api/admin/parcel-batches',
      headers: await t.ownerAuth(),
      payload: { name: '包裹卡', quantityPrinted: 500, printingCostFen: 10000, insertText: '扫码关注，晒单有礼' },
    });
    expect(batch.statusCode).toBe(201);
    ticket = batch.json().qrTicket;
  });
  afterAll(async () => t.close());

  // Not a database race in either mode: the three deliveries are gathered into one statement (the batcher's test).
  it('a subscribe delivered three times at once, then once more: one event, the same welcome every time, no store mark', async () => {
    const [p] = (await t.sandbox('POST', '/people/crowd', { count: 1 })).body.people as Array<{ id: string; oaOpenid: string }>;
    const c = t.app.services.wechat.credentials;
    const env = { WECHAT_TOKEN: c.token, WECHAT_APPID: c.appid, WECHAT_AES_KEY: c.aesKey! };
    const createTime = Math.floor(Date.now() / 1000);
    const scene = (await q('SELECT scene FROM parcel_batch ORDER BY created_at DESC LIMIT 1'))[0].scene as string;
    const xml = eventMessage(p!.oaOpenid, 'subscribe', { EventKey: `qrscene_${scene}`, Ticket: ticket }, createTime);
    const deliver = async () => {
      const cb = signedCallback(env, xml);
      const res = await t.app.inject({ method: 'POST', url: cb.url, payload: cb.payload, headers: { 'content-type': 'text/xml' } });
      expect(res.statusCode).toBe(200);
      const encrypted = /<Encrypt><!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(res.body)?.[1];
      return cb.crypto.decrypt(encrypted!).message;
    };
    const replies = [...(await Promise.all([deliver(), deliver(), deliver()])), await deliver()];
    for (const r of replies) expect(r).toContain('欢迎');
    expect(new Set(replies.map((r) => r.replace(/<CreateTime>\d+<\/CreateTime>/, ''))).size).toBe(1);
    const [{ events }] = await q('SELECT count(*)::int AS events FROM follow_event WHERE openid = $1', [p!.oaOpenid]);
    expect(events).toBe(1);
    expect(await t.app.infra.kv.get(`wechat:inbound:${c.appid}:e:${p!.oaOpenid}:${createTime}:subscribe`)).toBeNull();
    expect(await sweep()).toBe(1);
  });

  it('follow events arriving together share a statement and keep their own kind, batch and dedupe', async () => {
    const parcels = t.app.services.parcels;
    const scene = (await q('SELECT scene FROM parcel_batch ORDER BY created_at DESC LIMIT 1'))[0].scene as string;
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    await parcels.recordFollow({}, { openid: 'oTogetherOld0001', event: 'subscribe', scene, eventTime: new Date(at.getTime() - 60_000) });
    const fresh = Array.from({ length: 20 }, (_, i) => ({ openid: `oTogether${String(i).padStart(7, '0')}`, event: 'subscribe' as const, scene, eventTime: at }));
    const outcomes = await Promise.all([
      ...fresh.map((e) => parcels.recordFollow({}, e)),
      parcels.recordFollow({}, { openid: 'oTogetherOld0001', event: 'scan', scene, eventTime: at }),
      parcels.recordFollow({}, fresh[0]!), // the same delivery again, at the same time
      parcels.recordFollow({}, { openid: 'oTogetherNoScene', event: 'subscribe', scene: null, eventTime: at }),
    ]);
    const kinds = outcomes.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'new_follow')).toHaveLength(21); // 20 fresh (one of the first pair) + the one without a scene
    expect(kinds.filter((k) => k === null)).toHaveLength(1); // the redelivery
    expect(outcomes[20]).toMatchObject({ kind: 'scan', duplicate: false });
    expect(outcomes.every((o, i) => (i === 22 ? o.batch === null : o.batch?.id !== undefined))).toBe(true);
    const [{ events }] = await q("SELECT count(*)::int AS events FROM follow_event WHERE openid LIKE 'oTogether%'");
    expect(events).toBe(23); // old subscribe, 20 fresh, the scan, the one without a scene
    await sweep(); // WeChat does not know these openids: asked one by one, left without a member
  });

  it('150 new followers: two WeChat calls, one member each, and a mini-program member found by unionid', async () => {
    const crowd = (await t.sandbox('POST', '/people/crowd', { count: 150 })).body.people as Array<{ id: string; oaOpenid: string }>;
    // One of them opened the mini-program before following: the follow must land on that member.
    const { code } = (await t.sandbox('POST', `/people/${crowd[0]!.id}/login-code`, {})).body;
    const login = await t.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code } });
    const mpMember = login.json().member.id as string;
    for (let i = 0; i < crowd.length; i += 10) await Promise.all(crowd.slice(i, i + 10).map((p) => scan(p.id)));
    expect(await follower(crowd[0]!.oaOpenid)).toMatchObject({ member_id: null, info_fetched_at: null });

    const userInfoCalls = async () => ((await t.sandbox('GET', '/stats')).body.quotaUsedToday.user_info ?? 0) as number;
    const before = await userInfoCalls();
    expect(await sweep()).toBe(150);
    expect((await userInfoCalls()) - before).toBe(2); // 100 + 50
    const rows = await q(
      'SELECT openid, unionid, member_id FROM oa_follower WHERE openid = ANY($1) AND info_fetched_at IS NOT NULL',
      [crowd.map((p) => p.oaOpenid)],
    );
    expect(rows).toHaveLength(150);
    expect(rows.every((r: { unionid: string | null }) => r.unionid)).toBe(true);
    expect(new Set(rows.map((r: { member_id: string }) => r.member_id)).size).toBe(150);
    expect((await follower(crowd[0]!.oaOpenid)).member_id).toBe(mpMember);
    const [{ n }] = await q(
      "SELECT count(DISTINCT member_id)::int AS n FROM member_identity WHERE kind = 'oa_openid' AND value = ANY($1)",
      [crowd.map((p) => p.oaOpenid)],
    );
    expect(n).toBe(150);
    // Every new member has its points account from the start.
    const [{ accounts }] = await q('SELECT count(*)::int AS accounts FROM points_account WHERE member_id = ANY($1::uuid[])', [
      rows.map((r: { member_id: string }) => r.member_id),
    ]);
    expect(accounts).toBe(150);
    expect(await sweep()).toBe(0);
  });

  it('an openid WeChat does not know is asked on its own and left without a member; the others are linked', async () => {
    const crowd = (await t.sandbox('POST', '/people/crowd', { count: 3 })).body.people as Array<{ id: string; oaOpenid: string }>;
    for (const p of crowd) await scan(p.id);
    await q("INSERT INTO oa_follower (openid, subscribed, first_seen_at, last_event_at) VALUES ('oUnknownToWechat0001', true, now(), now())");
    expect(await sweep()).toBe(4);
    expect(await follower('oUnknownToWechat0001')).toMatchObject({ member_id: null, unionid: null, info_fetched_at: expect.any(Date) });
    for (const p of crowd) expect((await follower(p.oaOpenid)).member_id).toEqual(expect.any(String));
  });

  it('when WeChat refuses (daily quota), nothing is saved and the next sweep fetches them', async () => {
    const crowd = (await t.sandbox('POST', '/people/crowd', { count: 2 })).body.people as Array<{ id: string; oaOpenid: string }>;
    for (const p of crowd) await scan(p.id);
    await setQuota(0);
    try {
      await expect(sweep()).rejects.toMatchObject({ code: 'wechat_quota' });
    } finally {
      await setQuota(5_000_000);
    }
    for (const p of crowd) expect(await follower(p.oaOpenid)).toMatchObject({ info_fetched_at: null, member_id: null });
    expect(await sweep()).toBe(2);
    for (const p of crowd) expect((await follower(p.oaOpenid)).member_id).toEqual(expect.any(String));
  });

  it('when WeChat refuses part way through a round, what it answered is saved and the next sweep fetches the rest', async () => {
    const crowd = (await t.sandbox('POST', '/people/crowd', { count: 130 })).body.people as Array<{ id: string; oaOpenid: string }>;
    for (let i = 0; i < crowd.length; i += 10) await Promise.all(crowd.slice(i, i + 10).map((p) => scan(p.id)));
    const used = ((await t.sandbox('GET', '/stats')).body.quotaUsedToday.user_info ?? 0) as number;
    await setQuota(used + 1); // the first 100 are answered, the next call is refused
    try {
      await expect(sweep()).rejects.toMatchObject({ code: 'wechat_quota' });
    } finally {
      await setQuota(5_000_000);
    }
    const fetched = async () =>
      (await q('SELECT count(*)::int AS n FROM oa_follower WHERE openid = ANY($1) AND info_fetched_at IS NOT NULL AND member_id IS NOT NULL', [
        crowd.map((p) => p.oaOpenid),
      ]))[0].n as number;
    expect(await fetched()).toBe(100);
    expect(await sweep()).toBe(30);
    expect(await fetched()).toBe(130);
  });

  // The embedded server runs every connection on one session, where an advisory lock is re-entrant: PostgreSQL only.
  (process.env.DATABASE_URL ? it : it.skip)(`two sweeps at once (two instances): one sweeps, the other returns at once: ${PG_RACE} (only there)`, async () => {
    const crowd = (await t.sandbox('POST', '/people/crowd', { count: 30 })).body.people as Array<{ id: string; oaOpenid: string }>;
    for (const p of crowd) await scan(p.id);
    const counts = await Promise.all([sweep(), sweep()]);
    expect(counts.sort((a, b) => a - b)).toEqual([0, 30]);
  });

  it('a follower whose openid and unionid belong to two members: the two are merged, the follower lands on the survivor', async () => {
    const [p] = (await t.sandbox('POST', '/people/crowd', { count: 1 })).body.people as Array<{ id: string; oaOpenid: string }>;
    await scan(p!.id);
    // The follower bound an order by chat before the sweep (a member by openid), and opened the mini-program (by unionid).
    const byOpenid = (await t.app.services.members.findOrCreateByOpenid({}, { app: 'oa', openid: p!.oaOpenid })).memberId;
    const { code } = (await t.sandbox('POST', `/people/${p!.id}/login-code`, {})).body;
    const byUnionid = (await t.app.inject({ method: 'POST', url: '/api/mp/login', payload: { code } })).json().member.id as string;
    expect(byUnionid).not.toBe(byOpenid);
    expect(await sweep()).toBe(1);
    const survivor = (await follower(p!.oaOpenid)).member_id;
    expect(survivor).toBe(byOpenid); // the older one
    expect(await t.app.services.members.resolve({}, byUnionid)).toBe(survivor);
  });
});
