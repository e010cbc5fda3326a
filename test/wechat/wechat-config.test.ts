import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';
import { resolveWechatCredentials } from '../../server/wechat/credentials';
import { wechatTestEnv } from '../helpers/wechat';

describe('WeChat configuration and sandbox mode', () => {
  it('is in sandbox mode by default when no WeChat credentials are set, with the sandbox as API base', () => {
    const c = loadConfig({ PORT: '4000' });
    expect(c.wechat.sandbox).toBe(true);
    expect(c.wechat.apiBase).toBe('http://127.0.0.1:4000/sandbox');
    expect(c.wechat.callbackMaxAgeSeconds).toBe(300);
  });

  it('uses the real WeChat with credentials; WECHAT_API_BASE and WECHAT_CALLBACK_MAX_AGE_S override', () => {
    const env = wechatTestEnv();
    const c = loadConfig(env);
    expect(c.wechat).toMatchObject({ sandbox: false, appid: env.WECHAT_APPID, apiBase: 'https://api.weixin.qq.com' });
    const d = loadConfig({ ...env, WECHAT_API_BASE: 'http://stub:9/', WECHAT_CALLBACK_MAX_AGE_S: '0' });
    expect(d.wechat.apiBase).toBe('http://stub:9');
    expect(d.wechat.callbackMaxAgeSeconds).toBe(0);
  });

  it('refuses the sandbox in production with a message that says what to set', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SANDBOX is refused when NODE_ENV=production; set WECHAT_APPID/);
    expect(() => loadConfig({ ...wechatTestEnv(), NODE_ENV: 'production', SANDBOX: 'true' })).toThrow(/SANDBOX is refused/);
    expect(loadConfig({ ...wechatTestEnv(), NODE_ENV: 'production', MEMBER_DATA_KEY: 'a-long-enough-member-key' }).wechat.sandbox).toBe(false);
  });

  it.each([
    ['SANDBOX off without credentials', { SANDBOX: 'false' }, /WECHAT_APPID is required when SANDBOX is off/],
    ['credentials without a token', { ...wechatTestEnv(), WECHAT_TOKEN: '' }, /WECHAT_TOKEN is required/],
    ['a malformed appid', { WECHAT_APPID: 'wx123' }, /WECHAT_APPID must look like wx/],
    ['a short EncodingAESKey', { WECHAT_AES_KEY: 'short' }, /WECHAT_AES_KEY must be 43/],
    ['a mini-program appid without its secret', { MP_APPID: 'wx0123456789abcdef' }, /MP_APPID and MP_SECRET are set together/],
    ['a previous key without a current one', { WECHAT_AES_KEY_PREVIOUS: 'a'.repeat(43) }, /needs WECHAT_AES_KEY/],
    ['a negative callback window', { WECHAT_CALLBACK_MAX_AGE_S: '-1' }, /WECHAT_CALLBACK_MAX_AGE_S/],
  ])('refuses %s', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a secret it refuses', () => {
    try {
      loadConfig({ WECHAT_AES_KEY: 'secret-key-value' });
    } catch (err) {
      expect((err as Error).message).not.toContain('secret-key-value');
    }
    expect.assertions(1);
  });

  it('generates sandbox credentials once and keeps them in DATA_DIR, so a restart (and the sandbox) agree', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-cred-'));
    const c = loadConfig({ DATA_DIR: dir });
    const first = resolveWechatCredentials(c.wechat, dir);
    expect(first.appid).toMatch(/^wx[0-9a-f]{16}$/);
    expect(first.aesKey).toMatch(/^[A-Za-z0-9]{43}$/);
    expect(first.mp?.appid).toMatch(/^wx/);
    expect(resolveWechatCredentials(c.wechat, dir)).toEqual(first);
    expect(fs.statSync(path.join(dir, 'sandbox-wechat.json')).mode & 0o077).toBe(0);
    fs.rmSync(dir, { recursive: true });
  });
});
