/**
 * @jest-environment jsdom
 */
import path from 'path';
import simulate from 'miniprogram-simulate';
import { toMemberCardView } from '../../miniprogram/src/models/member.model';
import { sampleMember } from './helpers/fake-wx';
import { decodeMatrix } from './helpers/qr-decode';

const componentPath = path.resolve(__dirname, '../../miniprogram/src/components/member-card/member-card');
const id = simulate.load(componentPath, { compiler: 'simulate', rootPath: path.resolve(__dirname, '../../miniprogram/src') });

describe('member-card component', () => {
  it('renders tier, perks, points and the masked buyer, and shows the member code as a QR on demand', async () => {
    const comp = simulate.render(id, { card: toMemberCardView(sampleMember) });
    comp.attach(document.createElement('parent-wrapper'));
    expect(comp.querySelector('.tier')?.dom?.textContent).toBe('金卡会员');
    expect(comp.querySelector('.points-balance')?.dom?.textContent).toBe('1280');
    expect(comp.querySelector('.buyer')?.dom?.textContent).toContain('t**3');
    expect(comp.querySelectorAll('.perk').map((p) => p.dom?.textContent)).toEqual(['会员价 9.5 折', '全场包邮', '2 倍积分', '生日礼']);
    expect(comp.querySelector('.bind-invite')).toBeUndefined();
    expect(comp.querySelector('.code')).toBeUndefined();

    comp.querySelector('.code-toggle')?.dispatchEvent('tap');
    await simulate.sleep(0);
    expect(comp.querySelector('.code-text')?.dom?.textContent).toBe('3024 1865 73');
    // Version 1 symbol: 21 rows of 21 modules.
    // The drawn views, read back as modules, decode to the member code.
    const rows = Array.from(comp.dom?.querySelectorAll('.qr-code--qr-row') ?? []);
    expect(rows).toHaveLength(21);
    const matrix = rows.map((row) => Array.from(row.children).map((cell) => cell.classList.contains('qr-code--qr-dark')));
    expect(decodeMatrix(matrix)).toBe('3024186573');

    comp.querySelector('.code-toggle')?.dispatchEvent('tap');
    await simulate.sleep(0);
    expect(comp.querySelector('.code')).toBeUndefined();
  });

  it('invites an unbound member to bind a Taobao order', () => {
    const comp = simulate.render(id, { card: toMemberCardView({ ...sampleMember, taobaoBuyer: null }) });
    comp.attach(document.createElement('parent-wrapper'));
    expect(comp.querySelector('.buyer')).toBeUndefined();
    expect(comp.querySelector('.bind-invite')?.dom?.textContent).toContain('绑定淘宝订单');
  });
});
