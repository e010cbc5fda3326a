import { toRedemptionView, toWalletView, type RedemptionView, type WalletView } from '../../models/wallet.model';
import { errorMessage } from '../../services/request';
import { fetchRedemptions, fetchWallet } from '../../services/wallet.service';

// 我的券: unused coupons, the running 包邮卡 and what was redeemed in the points mall.
Component({
  data: {
    state: 'loading' as 'loading' | 'ready' | 'error',
    errorText: '',
    wallet: null as WalletView | null,
    redemptions: [] as RedemptionView[],
  },
  methods: {
    onLoad() {
      return this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    retry() {
      this.setData({ state: 'loading' });
      return this.load();
    },
    async load() {
      try {
        const [wallet, redemptions] = await Promise.all([fetchWallet(), fetchRedemptions()]);
        this.setData({ state: 'ready', wallet: toWalletView(wallet), redemptions: redemptions.map(toRedemptionView) });
      } catch (err) {
        this.setData({ state: 'error', errorText: errorMessage(err) });
      }
    },
    goMall() {
      wx.navigateTo({ url: '/packages/mall/index' });
    },
    goStore() {
      wx.switchTab({ url: '/pages/store/index' });
    },
  },
});
