/**
 * @jest-environment jsdom
 */
import { loadPage, mount, settle } from './helpers/simulate';
import { createFakeWx, installFakeWx, loginReply, routes, type FakeWx } from './helpers/fake-wx';
import { toClaimView, validateClaim, type ReviewClaim } from '../../miniprogram/src/models/review.model';

const reviewId = loadPage('packages/review/index');

/** A claim as the server answers it (GET /api/mp/review-claims; the type is generated from its schema). */
type ServerClaim = ReviewClaim;
const claim = (over: Partial<ServerClaim>): ServerClaim => ({
  id: 'b7a7c0de-0c1a-4c6e-9d2f-1a2b3c4d5e01', campaignId: 'b7a7c0de-0c1a-4c6e-9d2f-1a2b3c4d5e02', memberId: 'b7a7c0de-0c1a-4c6e-9d2f-1a2b3c4d5e03',
  orderNo: '3141592653589793238', status: 'submitted', rewardKind: 'cash', amountFen: 500, points: 0, rejectReason: null, failureReason: null,
  outBillNo: null, submittedAt: '2026-12-01T00:00:00.000Z', decidedAt: null, settledAt: null, ...over,
});

interface Upload { url: string; filePath: string; name: string; formData: Record<string, string>; header: Record<string, string> }

let fake: FakeWx;
let claims: ServerClaim[];
let uploads: Upload[];
let transfers: Array<Record<string, unknown>>;

beforeEach(() => {
  fake = createFakeWx();
  installFakeWx(fake);
  fake.storage.set('snowball.privacy', { version: '2026-11', accepted: true });
  claims = [];
  uploads = [];
  transfers = [];
  fake.setHandler(
    routes({
      'POST /api/mp/login': () => loginReply('tok-1'),
      'GET /api/mp/review-claims': () => ({ status: 200, body: claims }),
      'GET /api/mp/review-claims/c2/transfer': () => ({ status: 200, body: { mchId: '1900000109', appId: 'wxmp', package: 'pkg-c2' } }),
    }),
  );
  // Merged like installFakeWx: the page calls the global wx.
  const wx = (globalThis as unknown as { wx: Record<string, unknown> }).wx;
  wx.chooseMedia = (o: { success: (r: unknown) => void }) => o.success({ type: 'image', tempFiles: [{ tempFilePath: 'wxfile://tmp/review.png', size: 80 }] });
  wx.uploadFile = (o: Upload & { success: (r: { statusCode: number; data: string }) => void }) => {
    uploads.push({ url: o.url, filePath: o.filePath, name: o.name, formData: o.formData, header: o.header });
    claims = [claim({})];
    o.success({ statusCode: 201, data: JSON.stringify(claims[0]) });
  };
  wx.requestMerchantTransfer = (o: Record<string, unknown> & { success: () => void }) => {
    transfers.push({ mchId: o.mchId, appId: o.appId, package: o.package });
    o.success();
  };
});

describe('review reward page (晒单评价有礼)', () => {
  it('says what each claim state means, and never mentions a rating', () => {
    expect(toClaimView(claim({})).statusText).toBe('审核中');
    expect(toClaimView(claim({ status: 'transfer_pending' }))).toMatchObject({ statusText: '待确认收款', canConfirm: true, rewardText: '¥5.00 现金' });
    expect(toClaimView(claim({ status: 'rejected', rejectReason: '截图与订单不符' }))).toMatchObject({ statusText: '未通过', note: '截图与订单不符', canConfirm: false });
    expect(toClaimView(claim({ status: 'points_awarded', rewardKind: 'points', points: 50 }))).toMatchObject({ statusText: '积分已到账', rewardText: '50 积分' });
    expect(validateClaim('123', 'x')).toBe('请输入 18–19 位淘宝订单号');
    expect(validateClaim('3141592653589793238', '')).toBe('请上传评价截图');
    expect(validateClaim('3141592653589793238', 'x')).toBe('');
  });

  it('uploads the screenshot with the order number under the member session, then lists the claim', async () => {
    const page = mount(reviewId);
    page.instance.onShow();
    await settle();
    page.instance.onOrderNo({ detail: { value: '订单号: 3141 5926 5358 9793 238' } });
    page.querySelector('.shot')!.dispatchEvent('tap');
    await settle();
    expect(page.querySelector('.preview')).toBeDefined();
    page.querySelector('.submit')!.dispatchEvent('tap');
    await settle();
    expect((fake.storage.get('snowball.session') as { token: string }).token).toMatch(/^tok/);
    expect(uploads).toEqual([
      { url: 'http://127.0.0.1:3000/api/mp/review-claims', filePath: 'wxfile://tmp/review.png', name: 'screenshot', formData: { orderNo: '3141592653589793238' }, header: expect.objectContaining({ Authorization: `Bearer ${(fake.storage.get('snowball.session') as { token: string }).token}` }) },
    ]);
    expect(fake.toasts).toContain('已提交，等待商家审核');
    expect(page.querySelector('.status')?.dom?.textContent).toBe('审核中');
    expect(page.querySelector('.confirm')).toBeUndefined();
  });

  it('refuses to send without the order number or the screenshot', async () => {
    const page = mount(reviewId);
    page.querySelector('.submit')!.dispatchEvent('tap');
    await settle();
    expect(uploads).toEqual([]);
    expect(page.querySelector('.error')?.dom?.textContent).toBe('请输入 18–19 位淘宝订单号');
  });

  it('confirms an approved cash reward with WeChat’s merchant transfer, using the package the server gives', async () => {
    claims = [claim({ id: 'c2', status: 'transfer_pending' })];
    const page = mount(reviewId);
    page.instance.onShow();
    await settle();
    expect(page.querySelector('.status')?.dom?.textContent).toBe('待确认收款');
    page.querySelector('.confirm')!.dispatchEvent('tap');
    await settle();
    await settle();
    expect(transfers).toEqual([{ mchId: '1900000109', appId: 'wxmp', package: 'pkg-c2' }]);
    expect(fake.toasts).toContain('已确认收款');
  });
});
