import type { OrderStatus } from '../../../models/api-types';
import { toOrderView, type OrderView } from '../../../models/order.model';
import { fetchOrders } from '../../../services/order.service';
import { showError } from '../../../utils/ui';

const TABS: { status: OrderStatus | ''; text: string }[] = [
  { status: '', text: '全部' },
  { status: 'pending_payment', text: '待付款' },
  { status: 'paid', text: '待发货' },
  { status: 'shipped', text: '已发货' },
  { status: 'completed', text: '已完成' },
];

Component({
  data: { tabs: TABS, status: '' as OrderStatus | '', orders: [] as OrderView[], loaded: false },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const status = TABS.find((t) => t.status === query.status)?.status ?? '';
      this.setData({ status });
    },
    onShow() {
      this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    async load() {
      try {
        const orders = await fetchOrders(this.data.status || undefined);
        this.setData({ orders: orders.map(toOrderView), loaded: true });
      } catch (err) {
        this.setData({ loaded: true });
        showError(err);
      }
    },
    switchTab(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { status: OrderStatus | '' }>) {
      this.setData({ status: e.currentTarget.dataset.status, orders: [], loaded: false });
      this.load();
    },
    // Shipped orders show the carrier and tracking number; copying does not open the order (catchtap).
    copyTracking(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { no: string }>) {
      const { no } = e.currentTarget.dataset;
      if (no) wx.setClipboardData({ data: no });
    },
    openOrder(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `/packages/orders/detail/index?id=${e.currentTarget.dataset.id}` });
    },
  },
});
