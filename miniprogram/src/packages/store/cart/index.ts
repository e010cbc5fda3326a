import type { Cart } from '../../../models/api-types';
import { formatFen } from '../../../models/money';
import { toCartView, type CartLineView } from '../../../models/product.model';
import { fetchCart, setCartQuantity } from '../../../services/store.service';
import { showError } from '../../../utils/ui';

Component({
  data: { lines: [] as CartLineView[], totalText: formatFen(0), totalLabel: '合计', loaded: false, blocked: false },
  methods: {
    onShow() {
      this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    show(cart: Cart) {
      const view = toCartView(cart);
      this.setData({ lines: view.lines, totalText: view.totalText, totalLabel: view.totalLabel, blocked: view.blocked, loaded: true });
    },
    async load() {
      try {
        this.show(await fetchCart());
      } catch (err) {
        showError(err);
      }
    },
    async changeQuantity(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { sku: string; delta: number }>) {
      const { sku, delta } = e.currentTarget.dataset;
      const line = this.data.lines.find((l) => l.skuId === sku);
      if (!line) return;
      const quantity = Math.max(0, Math.min(line.quantity + Number(delta), line.stock));
      try {
        this.show(await setCartQuantity(sku, quantity));
      } catch (err) {
        showError(err);
      }
    },
    checkout() {
      if (this.data.lines.length === 0 || this.data.blocked) return;
      wx.navigateTo({ url: '/packages/store/checkout/index?from=cart' });
    },
    goStore() {
      wx.switchTab({ url: '/pages/store/index' });
    },
  },
});
