/**
 * @jest-environment jsdom
 */
import path from 'path';
import simulate from 'miniprogram-simulate';
import { createFakeWx, installFakeWx, routes, type FakeWx } from './helpers/fake-wx';
import type { CheckInMonth } from '../../miniprogram/src/models/api-types';

// The built-in button, redefined with its disabled property so that the test can read the binding.
simulate.load({ id: 'button', tagName: 'wx-button', template: '<slot/>', properties: { disabled: { type: Boolean, value: false } } });
const root = path.resolve(__dirname, '../../miniprogram/src');
const pageId = simulate.load(path.join(root, 'pages/check-in/index'), { compiler: 'simulate', rootPath: root });

let fake: FakeWx;
let month: CheckInMonth;

function serve(): void {
  fake.setHandler(
    routes({
      'GET /api/mp/check-ins': (_req, query) => ({ status: 200, body: { ...month, month: query.get('month') } }),
      'POST /api/mp/check-ins': () => {
        if (month.todayCheckedIn) return { status: 409, body: { code: 'already_checked_in', message: 'already' } };
        month = { ...month, todayCheckedIn: true, streak: month.streak + 1, days: [...month.days, { date: month.today, checkedIn: true, madeUp: false }] };
        return { status: 200, body: { date: month.today, streak: month.streak, reward: { points: 5, couponName: null }, pointsBalance: 105 } };
      },
      'POST /api/mp/check-ins/make-up': (req) => {
        const { date } = req.data as { date: string };
        month = { ...month, makeUpCards: month.makeUpCards - 1, days: [...month.days, { date, checkedIn: true, madeUp: true }] };
        return { status: 200, body: { date, streak: 4, reward: { points: 5, couponName: null }, pointsBalance: 110 } };
      },
      'POST /api/mp/check-ins/reminder': () => ({ status: 204 }),
    }),
  );
}

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-11-23T02:00:00Z'), doNotFake: ['setTimeout', 'setImmediate', 'queueMicrotask', 'nextTick'] });
  fake = createFakeWx();
  installFakeWx(fake);
  month = {
    month: '2026-11', today: '2026-11-23', todayCheckedIn: false, streak: 2, makeUpCards: 1,
    days: [
      { date: '2026-11-21', checkedIn: true, madeUp: false },
      { date: '2026-11-22', checkedIn: true, madeUp: false },
    ],
    rules: { basePoints: 5, day7Bonus: 20, day30Bonus: 100, makeUpCostPoints: 50 },
  };
  serve();
});

afterEach(() => jest.useRealTimers());

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await simulate.sleep(0);
}

function render() {
  const page = simulate.render(pageId);
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

describe('check-in page', () => {
  it('shows a failed first load with a retry instead of loading for good', async () => {
    let down = true;
    const served = fake;
    const normal = routes({ 'GET /api/mp/check-ins': (_req, query) => ({ status: 200, body: { ...month, month: query.get('month') } }) });
    served.setHandler((req) => (down && !req.url.includes('/api/mp/login') ? 'network_error' : normal(req)));
    const page = render();
    page.instance.onShow();
    await settle();
    expect(page.querySelector('.loading')).toBeUndefined();
    expect(page.querySelector('.error-text')?.dom?.textContent).toBe('网络连接失败，请检查网络后重试');
    expect(fake.toasts).toEqual([]);
    down = false;
    page.querySelector('.retry')?.dispatchEvent('tap');
    await settle();
    expect(page.querySelector('.load-error')).toBeUndefined();
    expect(page.querySelector('.check-in-button')?.dom?.textContent).toBe('立即签到');
  });

  it('marks checked days on the calendar, checks in once and then disables the button', async () => {
    const page = render();
    page.instance.onShow();
    await settle();

    expect(fake.requests.some((r) => r.url.endsWith('/api/mp/check-ins?month=2026-11'))).toBe(true);
    const checked = page.dom?.querySelectorAll('.check-in-calendar--day-checked') ?? [];
    expect(Array.from(checked).map((el) => el.textContent)).toEqual(['21已签', '22已签']);
    expect(page.dom?.querySelector('.check-in-calendar--day-today')?.textContent).toBe('23今天');
    const button = page.querySelector('.check-in-button');
    expect(button?.dom?.textContent).toBe('立即签到');
    expect(button?.data.disabled).toBe(false);

    button?.dispatchEvent('tap');
    button?.dispatchEvent('tap');
    await settle();

    expect(fake.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/mp/check-ins'))).toHaveLength(1);
    expect(page.querySelector('.reward')?.dom?.textContent).toBe('签到成功，已连续 3 天：+5 积分');
    expect(page.querySelector('.check-in-button')?.dom?.textContent).toBe('今日已签到');
    expect(page.instance.data.view.todayCheckedIn).toBe(true);
    expect(page.dom?.querySelectorAll('.check-in-calendar--day-checked')).toHaveLength(3);

    expect(page.querySelector('.check-in-button')?.data.disabled).toBe(true);
    page.querySelector('.check-in-button')?.dispatchEvent('tap');
    await settle();
    expect(fake.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/mp/check-ins'))).toHaveLength(1);
  });

  it('makes up a missed day with a card after the member confirms', async () => {
    const page = render();
    page.instance.onShow();
    await settle();
    const missed = page.dom?.querySelectorAll('.check-in-calendar--day-can-make-up') ?? [];
    expect(missed.length).toBe(20);

    page.instance.onMakeUp({ detail: { date: '2026-11-20' } });
    await settle();
    expect(fake.modals[0]).toContain('11月20日');
    const makeUp = fake.requests.find((r) => r.url.endsWith('/api/mp/check-ins/make-up'));
    expect(makeUp?.data).toEqual({ date: '2026-11-20' });
    expect(makeUp?.header['Idempotency-Key']).toBeTruthy();
    expect(page.dom?.querySelectorAll('.check-in-calendar--day-made_up')).toHaveLength(1);
    // The last card is used: no day offers a make-up any more.
    expect(page.dom?.querySelectorAll('.check-in-calendar--day-can-make-up')).toHaveLength(0);
  });

  it('records the reminder consent the member gave in WeChat', async () => {
    const page = render();
    page.instance.onShow();
    await settle();
    page.querySelector('.reminder')?.dispatchEvent('tap');
    await settle();
    const consent = fake.requests.find((r) => r.url.endsWith('/api/mp/check-ins/reminder'));
    expect(consent?.data).toEqual({ accepted: true });
    expect(page.querySelector('.reminder')?.dom?.textContent).toContain('已订阅');
  });
});
