import { readableExport } from '../../models/privacy-export.model';
import { exportMyData, eraseMyData } from '../../services/member.service';
import { clearSession } from '../../services/session';
import { confirm, showError, showSuccess } from '../../utils/ui';

Component({
  data: { exportText: '', rawExport: '', busy: false },
  methods: {
    openContract() {
      wx.openPrivacyContract({});
    },
    async exportData() {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        const data = (await exportMyData()) as Record<string, unknown>;
        this.setData({ exportText: readableExport(data), rawExport: JSON.stringify(data, null, 2) });
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
    copyExport() {
      wx.setClipboardData({ data: this.data.exportText, success: () => showSuccess('已复制，可粘贴保存') });
    },
    // The same data as the server's JSON, for moving it to another service.
    copyRaw() {
      wx.setClipboardData({ data: this.data.rawExport, success: () => showSuccess('已复制 JSON 原始数据') });
    },
    async erase() {
      if (this.data.busy) return;
      const first = await confirm('删除我的数据', '将删除你的会员资料、积分、签到记录、收货地址和淘宝订单绑定，且无法恢复。已支付订单按法律要求保留交易记录。', '继续');
      if (!first) return;
      const second = await confirm('再次确认', '确定永久删除？删除后积分将清零。', '永久删除');
      if (!second) return;
      this.setData({ busy: true });
      try {
        await eraseMyData();
        clearSession();
        showSuccess('你的数据已删除');
        wx.reLaunch({ url: '/pages/home/index' });
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});
