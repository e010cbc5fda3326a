import type { Cart } from '../../../models/api-types';
import { formatFen } from '../../../models/money';
import { toCartLineView, type CartLineView } from '../../../models/product.model';
import { fetchCart, setCartQuantity } from '../../../services/store.service';
import { showError } from '../../../utils/ui';

Component({
  data: { lines: [] as CartLineView[], totalText: formatFen(0), loaded: false, blocked: false },
  methods: {
    onShow() {
      this.load();
    },
    show(cart: Cart) {
      const lines = cart.items.map(toCartLineView);
      const total = cart.items.reduce((sum, item) => sum + item.memberPriceFen * item.quantity, 0);
      this.setData({ lines, totalText: formatFen(total), loaded: true, blocked: lines.some((l) => l.overStock) });
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
