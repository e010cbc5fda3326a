/**
 * @jest-environment jsdom
 */
import fs from 'fs';
import path from 'path';
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, loginReply, routes, sampleMember, type FakeWx } from './helpers/fake-wx';
import { openapiMismatch } from './helpers/openapi-check';
import { toMemberCardView, validateNickname } from '../../miniprogram/src/models/member.model';
import { config } from '../../miniprogram/src/config';

const profileId = loadPage('packages/profile/index');
// Both pages use the privacy popup; a component's script runs once per module registry, so the second page is loaded
// in a registry of its own (else its popup is never registered).
let mineId = '';
jest.isolateModules(() => {
  mineId = loadPage('pages/mine/index');
});

const AVATAR = '/api/mp/avatars/0123456789abcdef0123456789abcdef';
interface Upload { url: string; filePath: string; name: string; header: Record<string, string> }

let fake: FakeWx;
let uploads: Upload[];
let uploadReply: { status: number; body: unknown };
let nicknames: unknown[];

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
  fake.storage.set('snowball.privacy', { version: '2026-12', accepted: true });
  uploads = [];
  nicknames = [];
  uploadReply = { status: 200, body: { avatarUrl: AVATAR } };
  fake.setHandler(
    routes({
      'GET /api/mp/me': () => ({ status: 200, body: { ...sampleMember, nickname: null, avatarUrl: null } }),
      'PUT /api/mp/me/profile': (req) => {
        nicknames.push(req.data);
        return { status: 200, body: { nickname: (req.data as { nickname: string }).nickname } };
      },
    }),
  );
  const wx = (globalThis as unknown as { wx: Record<string, unknown> }).wx;
  wx.uploadFile = (o: Upload & { success: (r: { statusCode: number; data: string }) => void }) => {
    uploads.push({ url: o.url, filePath: o.filePath, name: o.name, header: o.header });
    // The stand-in answer is held against the server's document like every other.
    expect(openapiMismatch('POST', o.url, uploadReply.status, uploadReply.body)).toBeNull();
    setTimeout(() => o.success({ statusCode: uploadReply.status, data: JSON.stringify(uploadReply.body) }), 0);
  };
});

const text = (page: ReturnType<typeof mount>, selector: string) => page.querySelector(selector)?.dom?.textContent?.trim();

describe('头像与昵称 page', () => {
  it('uploads the avatar WeChat’s chooseAvatar button gave, at once, and shows the server’s copy', async () => {
    const page = mount(profileId);
    await page.instance.onLoad();
    await settle();
    expect(page.querySelector('.avatar-empty')).toBeDefined();
    // WeChat's own avatar and nickname flow: the chooseAvatar button, and a nickname input read by a form submit.
    const wxml = fs.readFileSync(path.resolve(__dirname, '../../miniprogram/src/packages/profile/index.wxml'), 'utf8');
    expect(wxml).toMatch(/<button[^>]*open-type="chooseAvatar"[^>]*bindchooseavatar="onChooseAvatar"/);
    expect(wxml).toMatch(/<form[^>]*bindsubmit="save">[\s\S]*<input[^>]*type="nickname"[^>]*name="nickname"[\s\S]*form-type="submit"[\s\S]*<\/form>/);

    page.querySelector('.avatar-button')?.dispatchEvent('chooseavatar', { detail: { avatarUrl: 'wxfile://tmp/avatar.jpg' } });
    await settle();
    expect(uploads.map((u) => [u.url, u.filePath, u.name])).toEqual([[`${config.apiBaseUrl}/api/mp/me/avatar`, 'wxfile://tmp/avatar.jpg', 'avatar']]);
    expect(uploads[0]!.header.Authorization).toBe('Bearer tok');
    expect(page.instance.data.avatarUrl).toBe(`${config.apiBaseUrl}${AVATAR}`);
    expect(page.querySelector('.avatar-empty')).toBeUndefined();
    expect(page.querySelector('.avatar')).toBeDefined();
    expect(fake.toasts).toEqual(['头像已更新']);
  });

  it('says why an avatar was refused and keeps the one it had', async () => {
    uploadReply = { status: 400, body: { code: 'avatar_too_large', message: 'The avatar must be 1 MB or smaller' } };
    const page = mount(profileId);
    await page.instance.onLoad();
    page.querySelector('.avatar-button')?.dispatchEvent('chooseavatar', { detail: { avatarUrl: 'wxfile://tmp/huge.jpg' } });
    await settle();
    expect(fake.toasts).toEqual(['头像图片不能超过 1 MB']);
    expect(page.instance.data.avatarUrl).toBe('');
  });

  it('saves the nickname from the form (WeChat’s nickname input), trimmed, and checks it first', async () => {
    const page = mount(profileId);
    await page.instance.onLoad();
    await settle();
    const form = page.querySelector('.profile-form');
    form?.dispatchEvent('submit', { detail: { value: { nickname: '   ' } } });
    await settle();
    expect(text(page, '.error')).toBe('请填写昵称');
    form?.dispatchEvent('submit', { detail: { value: { nickname: '茶'.repeat(33) } } });
    await settle();
    expect(text(page, '.error')).toBe('昵称最多 32 个字');
    expect(nicknames).toEqual([]);

    form?.dispatchEvent('submit', { detail: { value: { nickname: ' 小满 ' } } });
    await settle();
    expect(nicknames).toEqual([{ nickname: '小满' }]);
    expect(page.querySelector('.error')).toBeUndefined();
    expect(fake.toasts).toEqual(['昵称已保存']);
  });

  it('does not save a nickname WeChat’s content check refused', async () => {
    const page = mount(profileId);
    await page.instance.onLoad();
    page.querySelector('.nickname-input')?.dispatchEvent('nicknamereview', { detail: { pass: false, timeout: false } });
    await settle();
    expect(text(page, '.error')).toBe('这个昵称未通过微信的内容检查，请换一个');
    page.querySelector('.profile-form')?.dispatchEvent('submit', { detail: { value: { nickname: '' } } });
    await settle();
    expect(nicknames).toEqual([]);
    // A new nickname typed in clears the refusal.
    page.querySelector('.nickname-input')?.dispatchEvent('input', { detail: { value: '新昵称' } });
    page.querySelector('.profile-form')?.dispatchEvent('submit', { detail: { value: { nickname: '新昵称' } } });
    await settle();
    expect(nicknames).toEqual([{ nickname: '新昵称' }]);
  });

  it('sends nothing before the privacy notice is accepted', async () => {
    fake.storage.set('snowball.privacy', { version: '2026-12', accepted: false });
    const answer = routes({ 'GET /api/mp/me': () => ({ status: 200, body: sampleMember }) });
    fake.setHandler((req) => (req.url.endsWith('/api/mp/login') ? loginReply('tok', false) : answer(req)));
    const page = mount(profileId);
    await page.instance.onLoad();
    page.querySelector('.avatar-button')?.dispatchEvent('chooseavatar', { detail: { avatarUrl: 'wxfile://tmp/avatar.jpg' } });
    page.querySelector('.profile-form')?.dispatchEvent('submit', { detail: { value: { nickname: '小满' } } });
    await settle();
    expect([uploads, nicknames]).toEqual([[], []]);
    expect(text(page, '.error')).toBe('请先阅读并同意隐私保护指引');
  });
});

describe('我的 page, profile row', () => {
  it('invites a member without avatar or nickname to set them, and opens the profile page', async () => {
    const page = mount(mineId);
    await page.instance.onShow();
    await settle();
    expect(text(page, '.nickname')).toBe('微信会员');
    expect(text(page, '.edit-profile')).toBe('设置头像与昵称 ›');
    page.querySelector('.profile')?.dispatchEvent('tap');
    await settle();
    expect(fake.navigations).toEqual(['/packages/profile/index']);
  });

  it('shows the avatar from the server with its whole address', () => {
    const view = toMemberCardView({ ...sampleMember, avatarUrl: AVATAR });
    expect(view).toMatchObject({ avatarUrl: `${config.apiBaseUrl}${AVATAR}`, hasProfile: true, nickname: '小雪' });
    expect(toMemberCardView({ ...sampleMember, avatarUrl: null }).hasProfile).toBe(false);
    expect(validateNickname('🍵'.repeat(32))).toBe('');
    expect(validateNickname('🍵'.repeat(33))).toBe('昵称最多 32 个字');
  });
});
