import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InjectOptions } from 'fastify';
import { PRIVACY_NOTICE_VERSION } from '../../server/modules/mp-session/mp-session.service';
import { multipart } from '../helpers/multipart';
import { storeKit, type StoreKit, type StoreMember } from '../store/store-kit';
import { ordersFile } from '../taobao/taobao-files';

/**
 * PIPL: nothing personal is collected before the member accepted the current privacy notice. The server refuses
 * it, whatever the client does: an address, a review screenshot, the phone digits of a binding.
 */
let k: StoreKit;
const ORDER = { orderNo: '4036455525271591201', nick: 'c**t', phone: "'136****1201", total: '66.00', status: '交易成功' };
const ADDRESS = { name: '韩梅梅', phone: '13912345678', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 2 号' };
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)]);
const shotFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'consent-')), 'review.png');

beforeAll(async () => {
  fs.writeFileSync(shotFile, png);
  k = await storeKit();
  const imp = k.t.app.services.taobaoImport;
  await imp.run({}, await imp.create({}, { source: 'cli', channelKind: 'taobao', ordersFile: ordersFile([ORDER]) }));
  const campaign = await inject({
    method: 'POST',
    url: '/api/admin/review-campaigns',
    headers: k.admin,
    payload: { name: '晒单有礼', rewardKind: 'points', points: 50, startsAt: new Date(Date.now() - 3600_000).toISOString(), endsAt: new Date(Date.now() + 86_400_000).toISOString() },
  });
  expect(campaign.statusCode).toBe(201);
});
afterAll(async () => k.t.close());

const inject = (o: InjectOptions) => k.t.app.inject(o);
const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);
const screenshots = () => {
  const dir = path.join(k.t.app.infra.config.uploadsDir, 'review-screenshots');
  return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).length : 0;
};
const claim = (m: StoreMember) => {
  const body = multipart({ orderNo: ORDER.orderNo }, { screenshot: shotFile });
  return inject({ method: 'POST', url: '/api/mp/review-claims', headers: { ...m.headers, ...body.headers }, payload: body.payload });
};
const bind = (m: StoreMember) => inject({ method: 'POST', url: '/api/mp/bindings', headers: m.headers, payload: { orderNo: ORDER.orderNo, phoneLast4: '1201' } });
const refused = (res: { statusCode: number; json(): { code: string } }) => expect([res.statusCode, res.json().code]).toEqual([403, 'privacy_consent_required']);

describe('the privacy notice, enforced by the server', () => {
  it('refuses an address, the binding digits and a review screenshot before the notice is accepted, and stores nothing', async () => {
    const m = await k.member('未同意', { acceptPrivacy: false });
    const shotsBefore = screenshots(); // the uploads directory is shared by the test files of one worker
    const login = await k.t.app.services.mpSessions.hasAcceptedPrivacy({}, m.memberId);
    expect(login).toBe(false);

    refused(await inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: ADDRESS }));
    refused(await bind(m));
    refused(await claim(m));
    expect(await sql('SELECT count(*)::int AS n FROM store_address WHERE member_id = $1', [m.memberId])).toEqual([{ n: 0 }]);
    expect(await sql("SELECT count(*)::int AS n FROM member_identity WHERE member_id = $1 AND kind = 'taobao_buyer'", [m.memberId])).toEqual([{ n: 0 }]);
    expect(await sql('SELECT count(*)::int AS n FROM review_claim WHERE member_id = $1', [m.memberId])).toEqual([{ n: 0 }]);
    expect(screenshots()).toBe(shotsBefore);
    // Reading and everything that collects nothing still work.
    expect((await inject({ method: 'GET', url: '/api/mp/me', headers: m.headers })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/api/mp/addresses', headers: m.headers })).json()).toEqual([]);
    expect((await inject({ method: 'POST', url: '/api/mp/check-ins', headers: m.headers })).statusCode).toBe(200);

    // Accepted: the same requests go through.
    const accept = await inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: m.headers, payload: { version: PRIVACY_NOTICE_VERSION } });
    expect(accept.statusCode).toBe(204);
    const address = await inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: ADDRESS });
    expect(address.statusCode).toBe(200);
    expect(address.json()).toMatchObject({ name: '韩梅梅', phone: '139****5678' });
    const bound = await bind(m);
    expect(bound.statusCode).toBe(200);
    expect(bound.json().taobaoBuyer.ordersCount).toBe(1);
    const claimed = await claim(m);
    expect(claimed.statusCode).toBe(201);
    expect(claimed.json()).toMatchObject({ status: 'submitted', orderNo: ORDER.orderNo });
    expect(screenshots()).toBe(shotsBefore + 1);
  });

  it('asks again when the notice changed: a consent to an older version does not count', async () => {
    const m = await k.member('旧版本');
    const created = await inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: ADDRESS });
    expect(created.statusCode).toBe(200);
    await sql("UPDATE mp_privacy_consent SET version = '2020-01' WHERE member_id = $1", [m.memberId]);
    const login = await k.t.app.services.mpSessions.login({}, (await k.t.sandbox('POST', `/people/${m.personId}/login-code`, {})).body.code);
    expect(login.privacyAccepted).toBe(false);

    const put = await inject({ method: 'PUT', url: `/api/mp/addresses/${created.json().id}`, headers: m.headers, payload: { ...ADDRESS, detail: '新地址 9 号' } });
    refused(put);
    expect(await sql('SELECT detail FROM store_address WHERE id = $1', [created.json().id])).toEqual([{ detail: '漕溪北路 2 号' }]);
    refused(await inject({ method: 'POST', url: '/api/mp/addresses', headers: m.headers, payload: ADDRESS }));
    // An old version cannot be accepted instead of the current one.
    const old = await inject({ method: 'POST', url: '/api/mp/privacy/accept', headers: m.headers, payload: { version: '2020-01' } });
    expect([old.statusCode, old.json().code]).toEqual([400, 'privacy_version']);
  });
});
