import { toMemberCardView, type MemberCardView } from '../../models/member.model';
import { toProductCardView, type ProductCardView } from '../../models/product.model';
import { fetchMemberCard } from '../../services/member.service';
import { fetchProducts } from '../../services/store.service';
import { showError } from '../../utils/ui';

const FEATURED_COUNT = 4;

// Pages use the Component constructor so that jest + miniprogram-simulate can load them.
Component({
  data: { card: null as MemberCardView | null, loading: true, featured: [] as ProductCardView[] },
  methods: {
    onShow() {
      this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    async load() {
      await Promise.all([this.loadCard(), this.loadFeatured()]);
    },
    // The first products in the merchant's order (the server sorts by the catalog's sort): the first screen is not bare.
    async loadFeatured() {
      try {
        this.setData({ featured: (await fetchProducts()).filter((p) => p.stock > 0).slice(0, FEATURED_COUNT).map(toProductCardView) });
      } catch {
        // The card's own error says the server is unreachable; the shop section just stays hidden.
      }
    },
    async loadCard() {
      try {
        this.setData({ card: toMemberCardView(await fetchMemberCard()), loading: false });
      } catch (err) {
        this.setData({ loading: false });
        showError(err);
      }
    },
    goCheckIn() {
      wx.switchTab({ url: '/pages/check-in/index' });
    },
    goMall() {
      wx.navigateTo({ url: '/packages/mall/index' });
    },
    goStore() {
      wx.switchTab({ url: '/pages/store/index' });
    },
    openProduct(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `/packages/store/product/index?id=${e.currentTarget.dataset.id}` });
    },
    goBind() {
      wx.navigateTo({ url: '/packages/bind/index' });
    },
  },
});
