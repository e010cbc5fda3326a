import { toPointsEntryView, type PointsEntryView } from '../../models/points.model';
import { fetchMemberCard } from '../../services/member.service';
import { fetchPointsHistory } from '../../services/points.service';
import { showError } from '../../utils/ui';

Component({
  data: { balance: 0, expiringText: '', entries: [] as PointsEntryView[], cursor: null as string | null, done: false, loading: false },
  methods: {
    async onLoad() {
      await this.loadBalance();
      await this.loadMore();
    },
    // The balance and the first page again; the list is replaced once the new page is in (no flash of an empty list).
    async onPullDownRefresh() {
      await this.loadBalance();
      if (!this.data.loading) {
        this.setData({ loading: true });
        try {
          const page = await fetchPointsHistory(null);
          this.setData({ entries: page.items.map(toPointsEntryView), cursor: page.nextCursor, done: page.nextCursor === null });
        } catch (err) {
          showError(err);
        } finally {
          this.setData({ loading: false });
        }
      }
      wx.stopPullDownRefresh();
    },
    async loadBalance() {
      try {
        const card = await fetchMemberCard();
        this.setData({
          balance: card.pointsBalance,
          expiringText: card.expiringPoints ? `${card.expiringPoints.points} 积分即将过期` : '',
        });
      } catch (err) {
        showError(err);
      }
    },
    onReachBottom() {
      this.loadMore();
    },
    async loadMore() {
      if (this.data.loading || this.data.done) return;
      this.setData({ loading: true });
      try {
        const page = await fetchPointsHistory(this.data.cursor);
        this.setData({
          entries: this.data.entries.concat(page.items.map(toPointsEntryView)),
          cursor: page.nextCursor,
          done: page.nextCursor === null,
        });
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ loading: false });
      }
    },
    goMall() {
      wx.navigateTo({ url: '/packages/mall/index' });
    },
  },
});
