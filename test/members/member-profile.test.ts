import { multipartBuffer } from '../helpers/multipart';
import { storeKit, type StoreKit, type StoreMember } from '../store/store-kit';

/**
 * The nickname and avatar a member sets in the mini-program (WeChat's nickname input and chooseAvatar button): kept
 * only after the privacy notice is accepted, checked, shown on the card, served to <image> without a session, and
 * gone with an erasure.
 */
let k: StoreKit;
beforeAll(async () => {
  k = await storeKit();
});
afterAll(async () => k.t.close());

const sql = (text: string, params: unknown[] = []) => k.t.app.infra.db.dataSource.query(text, params);
const png = (fill: number) => Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(200, fill)]);
const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 3)]);

const me = async (m: StoreMember) => (await k.t.app.inject({ method: 'GET', url: '/api/mp/me', headers: m.headers })).json();
const setNickname = (m: StoreMember, nickname: unknown) => k.t.app.inject({ method: 'PUT', url: '/api/mp/me/profile', headers: m.headers, payload: { nickname } });
const setAvatar = (m: StoreMember, bytes: Buffer, field = 'avatar') => {
  const body = multipartBuffer(field, 'avatar.png', bytes);
  return k.t.app.inject({ method: 'POST', url: '/api/mp/me/avatar', headers: { ...m.headers, ...body.headers }, payload: body.payload });
};
const code = (r: { statusCode: number; json(): { code: string } }) => [r.statusCode, r.json().code];

describe('member profile', () => {
  it('keeps nothing before the privacy notice is accepted', async () => {
    const m = await k.member('未同意', { acceptPrivacy: false });
    expect(code(await setNickname(m, '小满'))).toEqual([403, 'privacy_consent_required']);
    expect(code(await setAvatar(m, png(1)))).toEqual([403, 'privacy_consent_required']);
    expect(await sql('SELECT nickname FROM member WHERE id = $1', [m.memberId])).toEqual([{ nickname: null }]);
    expect(await sql('SELECT count(*)::int AS n FROM member_avatar WHERE member_id = $1', [m.memberId])).toEqual([{ n: 0 }]);
  });

  it('sets the nickname, trimmed; refuses an empty, a too long or a multi-line one and keeps the last good one', async () => {
    const m = await k.member('昵称');
    const ok = await setNickname(m, '  雪球会员小满  ');
    expect([ok.statusCode, ok.json()]).toEqual([200, { nickname: '雪球会员小满' }]);
    expect((await me(m)).nickname).toBe('雪球会员小满');
    // 32 characters (emoji are one each) pass; 33 do not.
    expect((await setNickname(m, '🍵'.repeat(32))).statusCode).toBe(200);
    expect(code(await setNickname(m, '茶'.repeat(33)))).toEqual([400, 'nickname_too_long']);
    expect(code(await setNickname(m, '   '))).toEqual([400, 'nickname_empty']);
    expect(code(await setNickname(m, '第一行\n第二行'))).toEqual([400, 'nickname_invalid']);
    expect(code(await setNickname(m, 'abc\u202edcba'))).toEqual([400, 'nickname_invalid']);
    expect(code(await setNickname(m, 42))).toEqual([400, 'invalid_request']);
    expect((await me(m)).nickname).toBe('🍵'.repeat(32));
  });

  it('stores the avatar, shows it on the card and serves it without a session; a new one replaces it', async () => {
    const m = await k.member('头像');
    expect((await me(m)).avatarUrl).toBeNull();
    const first = await setAvatar(m, png(7));
    expect(first.statusCode).toBe(200);
    const url = first.json().avatarUrl as string;
    expect(url).toMatch(/^\/api\/mp\/avatars\/[0-9a-f]{32}$/);
    expect((await me(m)).avatarUrl).toBe(url);
    const served = await k.t.app.inject({ method: 'GET', url });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.rawPayload.equals(png(7))).toBe(true);

    const second = await setAvatar(m, jpeg);
    const url2 = second.json().avatarUrl as string;
    expect(url2).not.toBe(url);
    expect((await me(m)).avatarUrl).toBe(url2);
    expect(code(await k.t.app.inject({ method: 'GET', url }))).toEqual([404, 'avatar_not_found']);
    const served2 = await k.t.app.inject({ method: 'GET', url: url2 });
    expect([served2.headers['content-type'], served2.rawPayload.equals(jpeg)]).toEqual(['image/jpeg', true]);
    expect(code(await k.t.app.inject({ method: 'GET', url: '/api/mp/avatars/not-a-token' }))).toEqual([400, 'invalid_request']);
  });

  it('refuses what is not an image, an empty or missing file and one over 1 MB, and keeps the avatar it had', async () => {
    const m = await k.member('坏图');
    const url = (await setAvatar(m, png(5))).json().avatarUrl as string;
    expect(code(await setAvatar(m, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')))).toEqual([400, 'avatar_not_image']);
    expect(code(await setAvatar(m, Buffer.alloc(0)))).toEqual([400, 'avatar_missing']);
    expect(code(await setAvatar(m, png(1), 'picture'))).toEqual([400, 'avatar_missing']);
    expect(code(await setAvatar(m, Buffer.concat([png(2), Buffer.alloc(1024 * 1024)])))).toEqual([400, 'avatar_too_large']);
    const plain = await k.t.app.inject({ method: 'POST', url: '/api/mp/me/avatar', headers: m.headers, payload: { avatar: 'x' } });
    expect(code(plain)).toEqual([400, 'multipart_required']);
    expect((await me(m)).avatarUrl).toBe(url);
    expect((await k.t.app.inject({ method: 'GET', url })).rawPayload.equals(png(5))).toBe(true);
  });

  it('is in the export as a readable image and gone after an erasure', async () => {
    const m = await k.member('导出');
    await setNickname(m, '导出的我');
    const url = (await setAvatar(m, png(9))).json().avatarUrl as string;
    const data = (await k.t.app.inject({ method: 'GET', url: '/api/mp/me/export', headers: m.headers })).json();
    expect(data.member.nickname).toBe('导出的我');
    expect(data.avatar).toMatchObject({ content_type: 'image/png', size_bytes: png(9).length, image: `data:image/png;base64,${png(9).toString('base64')}` });

    expect((await k.t.app.inject({ method: 'POST', url: '/api/mp/me/erase', headers: m.headers, payload: { confirm: true } })).statusCode).toBe(204);
    expect(code(await k.t.app.inject({ method: 'GET', url }))).toEqual([404, 'avatar_not_found']);
    expect(await sql('SELECT count(*)::int AS n FROM member_avatar WHERE member_id = $1', [m.memberId])).toEqual([{ n: 0 }]);
    expect(await sql('SELECT nickname FROM member WHERE id = $1', [m.memberId])).toEqual([{ nickname: null }]);
  });
});
