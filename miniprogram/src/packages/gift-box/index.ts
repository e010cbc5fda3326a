import type { GiftBox } from '../../models/api-types';
import { fetchGiftBox, helpGiftBox, startGiftBox } from '../../services/gift-box.service';
import { errorMessage } from '../../services/request';
import { showError, showSuccess } from '../../utils/ui';

const STATUS_TEXT: Record<GiftBox['status'], string> = { open: '待好友帮拆', unlocked: '已拆开', rewarded: '已拆开，奖励已发放', expired: '活动已结束，礼盒已失效' };

/** The shared box page: rules, helpers needed, reward and end time up front; 帮TA拆 for friends, share for the owner. */
Component({
  data: {
    id: '',
    box: null as GiftBox | null,
    statusText: '',
    endsText: '',
    errorText: '',
    busy: false,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ id: query.id ?? '' });
      return this.load();
    },
    async load() {
      this.setData({ errorText: '' });
      try {
        const box = await fetchGiftBox(this.data.id);
        this.setData({ box, statusText: STATUS_TEXT[box.status], endsText: new Date(box.endsAt).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false }) });
      } catch (err) {
        this.setData({ errorText: errorMessage(err) });
      }
    },
    async help() {
      const box = this.data.box;
      if (!box || box.mine || box.helpedByMe || box.status !== 'open' || this.data.busy) return;
      this.setData({ busy: true });
      try {
        const r = await helpGiftBox(box.id);
        showSuccess(r.status === 'open' ? `已帮拆 ${r.helps}/${box.helpsRequired}` : '礼盒已拆开');
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
        await this.load();
      }
    },
    async startMine() {
      const box = this.data.box;
      if (!box || this.data.busy) return;
      this.setData({ busy: true });
      try {
        const mine = await startGiftBox(box.campaignId, box.mine ? undefined : box.id);
        wx.redirectTo({ url: `/packages/gift-box/index?id=${mine.id}` });
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
    // Shared only through the chat share button; no timeline share (no onShareTimeline), and no share is counted.
    onShareAppMessage() {
      const box = this.data.box;
      return { title: box ? `帮我拆礼盒，${box.helpsRequired} 位好友帮拆即得 ${box.reward.points} 积分` : '帮我拆礼盒', path: `/packages/gift-box/index?id=${this.data.id}` };
    },
  },
});
