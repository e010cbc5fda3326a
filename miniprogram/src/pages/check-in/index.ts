import { config } from '../../config';
import { checkInRewardText, toCheckInView, type CheckInView } from '../../models/check-in.model';
import { checkIn, fetchCheckInMonth, makeUpCheckIn, saveReminderConsent } from '../../services/check-in.service';
import { errorMessage } from '../../services/request';
import { shiftMonth } from '../../utils/shanghai-time';
import { confirm, currentShanghaiMonth, showError, showSuccess } from '../../utils/ui';

Component({
  data: {
    view: null as CheckInView | null,
    busy: false,
    rewardText: '',
    reminderOn: false,
    errorText: '',
    month: '',
  },
  methods: {
    onShow() {
      this.load(this.data.view?.month ?? currentShanghaiMonth());
    },
    async onPullDownRefresh() {
      await this.load(this.data.view?.month ?? currentShanghaiMonth());
      wx.stopPullDownRefresh();
    },
    // Without a calendar yet, a failure shows why and a retry (never a "加载中…" that stays); with one, a toast.
    async load(month: string) {
      this.setData({ month, errorText: '' });
      try {
        this.setData({ view: toCheckInView(await fetchCheckInMonth(month)) });
      } catch (err) {
        if (this.data.view) showError(err);
        else this.setData({ errorText: errorMessage(err) });
      }
    },
    retry() {
      return this.load(this.data.month || currentShanghaiMonth());
    },
    prevMonth() {
      if (this.data.view) this.load(shiftMonth(this.data.view.month, -1));
    },
    nextMonth() {
      const view = this.data.view;
      if (view && !view.isCurrentMonth) this.load(shiftMonth(view.month, 1));
    },
    async checkIn() {
      const view = this.data.view;
      if (!view || view.todayCheckedIn || this.data.busy) return;
      this.setData({ busy: true });
      try {
        const result = await checkIn();
        this.setData({ rewardText: checkInRewardText(result) });
        showSuccess(`+${result.reward.points} 积分`);
        await this.load(result.date.slice(0, 7));
      } catch (err) {
        showError(err);
        // already_checked_in from another device: refresh so the button turns off.
        await this.load(view.month);
      } finally {
        this.setData({ busy: false });
      }
    },
    async onMakeUp(e: WechatMiniprogram.CustomEvent<{ date: string }>) {
      const { date } = e.detail;
      const [, m, d] = date.split('-').map(Number);
      const ok = await confirm('补签', `使用 1 张补签卡补签 ${m}月${d}日？（剩余 ${this.data.view?.makeUpCards ?? 0} 张）`, '补签');
      if (!ok) return;
      try {
        const result = await makeUpCheckIn(date);
        showSuccess(`补签成功，已连续 ${result.streak} 天`);
        await this.load(date.slice(0, 7));
      } catch (err) {
        showError(err);
      }
    },
    // wx.requestSubscribeMessage must run straight from the tap, before any await.
    subscribeReminder() {
      const templateId = config.checkInReminderTemplateId;
      wx.requestSubscribeMessage({
        tmplIds: [templateId],
        success: (res) => {
          const accepted = (res as unknown as Record<string, string>)[templateId] === 'accept';
          saveReminderConsent(accepted)
            .then(() => {
              this.setData({ reminderOn: accepted });
              showSuccess(accepted ? '已开启明日签到提醒' : '未开启提醒');
            })
            .catch(showError);
        },
        fail: () => showSuccess('未开启提醒，可在右上角「设置」中允许订阅消息'),
      });
    },
    goMall() {
      wx.navigateTo({ url: '/packages/mall/index' });
    },
  },
});
