import { toMemberCardView, type MemberCardView } from '../../models/member.model';
import type { OrderStatus } from '../../models/api-types';
import { fetchMemberCard } from '../../services/member.service';
import { showError } from '../../utils/ui';

const ORDER_TABS: { status: OrderStatus | ''; text: string }[] = [
  { status: 'pending_payment', text: '待付款' },
  { status: 'paid', text: '待发货' },
  { status: 'shipped', text: '已发货' },
  { status: '', text: '全部订单' },
];

Component({
  data: { card: null as MemberCardView | null, orderTabs: ORDER_TABS },
  methods: {
    onShow() {
      return this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    async load() {
      try {
        this.setData({ card: toMemberCardView(await fetchMemberCard()) });
      } catch (err) {
        showError(err);
      }
    },
    openOrders(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { status: string }>) {
      const { status } = e.currentTarget.dataset;
      wx.navigateTo({ url: `/packages/orders/list/index${status ? `?status=${status}` : ''}` });
    },
    openPage(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { url: string }>) {
      wx.navigateTo({ url: e.currentTarget.dataset.url });
    },
  },
});
