import type { MemberCardView } from '../../models/member.model';

Component({
  properties: {
    card: { type: Object, value: null as unknown as MemberCardView },
  },
  data: { showCode: false },
  methods: {
    toggleCode() {
      this.setData({ showCode: !this.data.showCode });
    },
    goBind() {
      wx.navigateTo({ url: '/packages/bind/index' });
    },
    goPoints() {
      wx.navigateTo({ url: '/packages/points/index' });
    },
  },
});
