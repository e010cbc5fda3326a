import { buildTestApp, type TestApp } from '../helpers/app';

/** The address the README gives, http://127.0.0.1:3000/, leads somewhere in either mode. */
describe('the root address', () => {
  let sandbox: TestApp;
  let live: TestApp;
  beforeAll(async () => {
    sandbox = await buildTestApp({ SANDBOX: 'true' });
    live = await buildTestApp({ SANDBOX: 'false', WECHAT_APPID: 'wx1234567890abcdef', WECHAT_SECRET: 's', WECHAT_TOKEN: 'token123' });
  });
  afterAll(async () => {
    await sandbox?.close();
    await live?.close();
  });

  it('sends a newcomer to the sandbox in sandbox mode', async () => {
    const res = await sandbox.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/sandbox');
  });

  it('sends to the API docs without the sandbox, where the sandbox and its phone are not mounted', async () => {
    const res = await live.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/docs');
    for (const url of ['/sandbox', '/sandbox/phone/', '/sandbox/phone/phone.js', '/sandbox/page/sandbox.js']) {
      expect((await live.app.inject({ method: 'GET', url })).statusCode).toBe(404);
    }
  });
});
