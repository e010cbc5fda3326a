import { toMemberCardView, type MemberCardView } from '../../models/member.model';
import { fetchMemberCard } from '../../services/member.service';
import { showError } from '../../utils/ui';

// Pages use the Component constructor so that jest + miniprogram-simulate can load them.
Component({
  data: { card: null as MemberCardView | null, loading: true },
  methods: {
    onShow() {
      this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    async load() {
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
    goBind() {
      wx.navigateTo({ url: '/packages/bind/index' });
    },
  },
});
