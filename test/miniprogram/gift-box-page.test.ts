/**
 * @jest-environment jsdom
 */
import path from 'path';
import simulate from 'miniprogram-simulate';
import { createFakeWx, installFakeWx, routes, type FakeWx } from './helpers/fake-wx';
import type { GiftBox } from '../../miniprogram/src/models/api-types';

simulate.load({ id: 'button', tagName: 'wx-button', template: '<slot/>', properties: { disabled: { type: Boolean, value: false } } });
const root = path.resolve(__dirname, '../../miniprogram/src');
const pageId = simulate.load(path.join(root, 'packages/gift-box/index'), { compiler: 'simulate', rootPath: root });
const BOX = '6f1c1a9e-0000-4000-8000-000000000001';

let fake: FakeWx;
let box: GiftBox;

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
  box = {
    id: BOX, campaignId: '6f1c1a9e-0000-4000-8000-0000000000c1', campaignName: '九人拆礼盒', status: 'open', helpsRequired: 9, helps: 2,
    helpers: [{ nickname: '小林', avatarUrl: null }, { nickname: null, avatarUrl: '/api/mp/avatars/x' }], parentBoxId: null,
    reward: { kind: 'points', points: 100 }, rules: '邀请 9 位好友帮拆', startsAt: '2026-12-01T00:00:00.000Z', endsAt: '2026-12-31T15:59:59.000Z',
    mine: false, helpedByMe: false, createdAt: '2026-12-02T00:00:00.000Z',
  };
  fake.setHandler(
    routes({
      [`GET /api/mp/gift-boxes/${BOX}`]: () => ({ status: 200, body: box }),
      [`POST /api/mp/gift-boxes/${BOX}/helps`]: () => {
        box = { ...box, helps: box.helps + 1, helpedByMe: true, helpers: [...box.helpers, { nickname: '我', avatarUrl: null }] };
        return { status: 200, body: { helps: box.helps, status: box.status } };
      },
    }),
  );
});

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await simulate.sleep(0);
}

function render() {
  const page = simulate.render(pageId);
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

describe('gift box page', () => {
  it('shows the rules, the helpers needed, the reward and the end time before anyone acts; opening it helps nothing', async () => {
    const page = render();
    await page.instance.onLoad({ id: BOX });
    await settle();
    const text = page.dom?.textContent ?? '';
    expect(text).toContain('邀请 9 位好友帮拆');
    expect(text).toContain('需要 9 位好友帮拆，拆开即得 100 积分');
    expect(text).toContain('活动截止');
    expect(page.querySelector('.count')?.dom?.textContent).toBe('已帮拆 2/9');
    expect(page.querySelectorAll('.helper')).toHaveLength(2);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.url.includes('/gift-boxes'))).toEqual([]);
    // Shared through the chat share button only: no timeline share.
    expect(page.instance.onShareAppMessage().path).toBe(`/packages/gift-box/index?id=${BOX}`);
    expect((page.instance as unknown as Record<string, unknown>).onShareTimeline).toBeUndefined();
  });

  it('帮TA拆 posts one help, then shows the progress and no second button', async () => {
    const page = render();
    await page.instance.onLoad({ id: BOX });
    await settle();
    page.querySelector('.help-button')?.dispatchEvent('tap');
    page.querySelector('.help-button')?.dispatchEvent('tap');
    await settle();
    expect(fake.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/helps'))).toHaveLength(1);
    expect(page.querySelector('.count')?.dom?.textContent).toBe('已帮拆 3/9');
    expect(page.querySelector('.help-button')).toBeUndefined();
    expect(page.querySelector('.helped')).toBeDefined();
  });

  it('the owner sees a share button and no help button', async () => {
    box = { ...box, mine: true };
    const page = render();
    await page.instance.onLoad({ id: BOX });
    await settle();
    expect(page.querySelector('.help-button')).toBeUndefined();
    expect(page.querySelector('.share-button')?.dom?.textContent).toBe('分享给微信好友');
  });
});
