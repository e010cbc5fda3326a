import { toProductDetailView, type ProductDetailView } from '../../../models/product.model';
import { fetchProduct, setCartQuantity, fetchCart } from '../../../services/store.service';
import { errorMessage } from '../../../services/request';
import { showError, showSuccess } from '../../../utils/ui';

Component({
  data: { product: null as ProductDetailView | null, productId: '', errorText: '', skuIndex: 0, quantity: 1, busy: false },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      wx.showShareMenu({ menus: ['shareAppMessage'] });
      this.setData({ productId: query.id ?? '' });
      await this.load();
    },
    // A failed load shows why and a retry, never a "加载中…" that stays.
    async load() {
      const id = this.data.productId;
      if (!id) {
        this.setData({ errorText: '商品不存在或已下架' });
        return;
      }
      this.setData({ errorText: '' });
      try {
        const product = toProductDetailView(await fetchProduct(id));
        const firstInStock = product.skus.findIndex((s) => !s.soldOut);
        this.setData({ product, skuIndex: Math.max(0, firstInStock) });
        wx.setNavigationBarTitle({ title: product.title });
      } catch (err) {
        this.setData({ errorText: errorMessage(err) });
      }
    },
    retry() {
      return this.load();
    },
    chooseSku(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { index: number }>) {
      this.setData({ skuIndex: Number(e.currentTarget.dataset.index), quantity: 1 });
    },
    changeQuantity(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { delta: number }>) {
      const sku = this.data.product?.skus[this.data.skuIndex];
      if (!sku) return;
      const quantity = Math.min(Math.max(1, this.data.quantity + Number(e.currentTarget.dataset.delta)), Math.max(1, sku.stock));
      this.setData({ quantity });
    },
    async addToCart() {
      const sku = this.data.product?.skus[this.data.skuIndex];
      if (!sku || sku.soldOut || this.data.busy) return;
      this.setData({ busy: true });
      try {
        // The cart API sets a line's quantity, so add to what is there already.
        const cart = await fetchCart();
        const existing = cart.items.find((item) => item.skuId === sku.id)?.quantity ?? 0;
        await setCartQuantity(sku.id, existing + this.data.quantity);
        showSuccess('已加入购物车');
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
    buyNow() {
      const product = this.data.product;
      const sku = product?.skus[this.data.skuIndex];
      if (!product || !sku || sku.soldOut) return;
      wx.navigateTo({ url: `/packages/store/checkout/index?productId=${product.id}&skuId=${sku.id}&quantity=${this.data.quantity}` });
    },
    onShareAppMessage() {
      const product = this.data.product;
      if (!product) return { title: '会员商城', path: '/pages/store/index' };
      return {
        title: `${product.title} ${product.anyMemberPrice ? '会员价 ' : ''}${product.lowestMemberPriceText} 起`,
        path: `/packages/store/product/index?id=${product.id}`,
        imageUrl: product.images[0],
      };
    },
  },
});
