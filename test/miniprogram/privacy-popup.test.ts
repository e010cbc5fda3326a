/**
 * @jest-environment jsdom
 */
import path from 'path';
import simulate from 'miniprogram-simulate';
import { createFakeWx, installFakeWx, loginReply, type FakeWx } from './helpers/fake-wx';
import { requestPrivacyAuthorization } from '../../miniprogram/src/utils/privacy-bus';
import { hasAcceptedPrivacy } from '../../miniprogram/src/services/privacy.service';

const root = path.resolve(__dirname, '../../miniprogram/src');
const id = simulate.load(path.join(root, 'components/privacy-popup/privacy-popup'), { compiler: 'simulate', rootPath: root });

let fake: FakeWx;
let accepted: boolean;

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
  accepted = false;
  fake.setHandler((req) => {
    const p = new URL(req.url).pathname;
    if (p === '/api/mp/login') return loginReply('tok', accepted);
    if (p === '/api/mp/privacy/accept') {
      accepted = true;
      return { status: 204 };
    }
    return { status: 404, body: { code: 'not_found' } };
  });
});

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await simulate.sleep(0);
}

function mount() {
  const comp = simulate.render(id);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

describe('privacy popup', () => {
  it('shows the notice after the first login and records the consent on the server', async () => {
    const comp = mount();
    await settle();
    expect(comp.querySelector('.title')?.dom?.textContent).toBe('隐私保护提示');
    expect(hasAcceptedPrivacy()).toBe(false);

    comp.querySelector('.agree')?.dispatchEvent('agreeprivacyauthorization');
    await settle();
    const accept = fake.requests.find((r) => r.url.endsWith('/api/mp/privacy/accept'));
    expect(accept?.data).toEqual({ version: '2026-11' });
    expect(comp.querySelector('.title')).toBeUndefined();
    expect(hasAcceptedPrivacy()).toBe(true);
    comp.detach();
  });

  it('stays hidden for a member who accepted, and answers WeChat when a privacy API asks', async () => {
    accepted = true;
    const comp = mount();
    await settle();
    expect(comp.querySelector('.title')).toBeUndefined();

    const answers: unknown[] = [];
    requestPrivacyAuthorization((result) => answers.push(result));
    await settle();
    expect(comp.querySelector('.title')).toBeDefined();
    comp.querySelector('.agree')?.dispatchEvent('agreeprivacyauthorization');
    await settle();
    expect(answers).toEqual([{ event: 'agree', buttonId: 'privacy-agree' }]);
    // Already accepted on the server: nothing is sent again.
    expect(fake.requests.some((r) => r.url.endsWith('/api/mp/privacy/accept'))).toBe(false);
    comp.detach();
  });

  it('tells WeChat the member declined', async () => {
    accepted = true;
    const comp = mount();
    await settle();
    const answers: unknown[] = [];
    requestPrivacyAuthorization((result) => answers.push(result));
    await settle();
    comp.querySelector('.disagree')?.dispatchEvent('tap');
    await settle();
    expect(answers).toEqual([{ event: 'disagree' }]);
    expect(fake.requests.some((r) => r.url.endsWith('/api/mp/privacy/accept'))).toBe(false);
    comp.detach();
  });
});
