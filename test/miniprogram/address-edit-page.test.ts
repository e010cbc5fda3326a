/**
 * @jest-environment jsdom
 */
import { loadPage, mount } from './helpers/simulate';
import { createFakeWx, installFakeWx, routes, type FakeWx } from './helpers/fake-wx';
import type { Address } from '../../miniprogram/src/models/api-types';

// Its own file: pages that share the privacy popup cannot be loaded twice in one file.
const addressEditId = loadPage('packages/addresses/edit/index');

let fake: FakeWx;

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
});



describe('address edit page', () => {
  const stored: Address = { id: 'a1', name: '林雪', phone: '138****6392', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 88 号', isDefault: true };
  let sent: { method: string; data: unknown }[];

  beforeEach(() => {
    sent = [];
    fake.storage.set('snowball.privacy', { version: '2026-11', accepted: true });
    fake.setHandler(
      routes({
        'GET /api/mp/addresses': () => ({ status: 200, body: [stored] }),
        'PUT /api/mp/addresses/a1': (req) => {
          sent.push({ method: 'PUT', data: req.data });
          return { status: 200, body: stored };
        },
        'POST /api/mp/addresses': (req) => {
          sent.push({ method: 'POST', data: req.data });
          return { status: 200, body: { ...stored, id: 'a2' } };
        },
      }),
    );
  });

  it('never sends the masked phone back when the member leaves it untouched', async () => {
    const page = mount(addressEditId);
    await page.instance.onLoad({ id: 'a1' });
    expect(page.instance.data.form.phone).toBe('');
    page.instance.onInput({ detail: { value: '漕溪北路 100 号' }, currentTarget: { dataset: { field: 'detail' } } });
    await page.instance.save();
    expect(sent).toEqual([{ method: 'PUT', data: { name: '林雪', province: '上海市', city: '上海市', district: '徐汇区', detail: '漕溪北路 100 号', isDefault: true } }]);
    expect(fake.navigations).toEqual(['back']);
  });

  it('sends a new phone the member typed', async () => {
    const page = mount(addressEditId);
    await page.instance.onLoad({ id: 'a1' });
    page.instance.onInput({ detail: { value: '13900001111' }, currentTarget: { dataset: { field: 'phone' } } });
    await page.instance.save();
    expect((sent[0].data as Address).phone).toBe('13900001111');
  });

  it('checks a new address and imports one from WeChat', async () => {
    const chooseAddress = (opts: { success: (res: Record<string, string>) => void }) =>
      opts.success({ userName: '王芳', telNumber: '13700002222', provinceName: '浙江省', cityName: '杭州市', countyName: '西湖区', detailInfo: '文三路 1 号' });
    installFakeWx({ ...fake, wx: { ...fake.wx, chooseAddress } as unknown as WechatMiniprogram.Wx });
    const page = mount(addressEditId);
    await page.instance.onLoad({});
    await page.instance.save();
    expect(fake.toasts).toEqual(['请填写收货人']);
    expect(sent).toEqual([]);

    page.instance.importFromWechat();
    await page.instance.save();
    expect(sent).toEqual([{ method: 'POST', data: { name: '王芳', phone: '13700002222', province: '浙江省', city: '杭州市', district: '西湖区', detail: '文三路 1 号', isDefault: false } }]);
  });

  it('sends nothing before the privacy notice is accepted', async () => {
    // Logged in earlier, notice not accepted yet.
    fake.storage.set('snowball.session', { token: 'tok', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    fake.storage.set('snowball.privacy', { version: '2026-11', accepted: false });
    const page = mount(addressEditId);
    await page.instance.onLoad({ id: 'a1' });
    page.instance.onInput({ detail: { value: '13900001111' }, currentTarget: { dataset: { field: 'phone' } } });
    await page.instance.save();
    expect(sent).toEqual([]);
    expect(fake.toasts).toContain('请先阅读并同意隐私保护指引');
  });
});
