import { config } from '../../config';
import { toCartView, toProductCardView, type ProductCardView } from '../../models/product.model';
import { fetchCart, fetchProducts } from '../../services/store.service';
import { showError } from '../../utils/ui';

Component({
  data: { products: [] as ProductCardView[], loaded: false, cartCount: 0 },
  methods: {
    onLoad() {
      wx.showShareMenu({ menus: ['shareAppMessage'] });
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
        const [products, cart] = await Promise.all([fetchProducts(), fetchCart()]);
        this.setData({
          products: products.map(toProductCardView),
          cartCount: toCartView(cart).count,
          loaded: true,
        });
      } catch (err) {
        this.setData({ loaded: true });
        showError(err);
      }
    },
    openProduct(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `/packages/store/product/index?id=${e.currentTarget.dataset.id}` });
    },
    openCart() {
      wx.navigateTo({ url: '/packages/store/cart/index' });
    },
    openMall() {
      wx.navigateTo({ url: '/packages/mall/index' });
    },
    onShareAppMessage() {
      return { title: config.storeShareTitle, path: '/pages/store/index' };
    },
  },
});
