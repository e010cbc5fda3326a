import { acceptPrivacy, loadPrivacyState } from '../../services/privacy.service';
import { errorMessage } from '../../services/request';
import { onPrivacyRequest, settlePrivacyRequest } from '../../utils/privacy-bus';

// The privacy notice: shown after the first login until accepted, and whenever WeChat asks before a
// privacy API (wx.chooseAddress). Nothing personal is collected before the member agrees.
Component({
  properties: {
    // Pages that collect personal data show it at once; the home page shows it on first login.
    purpose: { type: String, value: '' },
  },
  data: { visible: false, version: '', accepted: false, busy: false },
  lifetimes: {
    attached() {
      const self = this as unknown as { unsubscribe?: () => void };
      self.unsubscribe = onPrivacyRequest(() => this.setData({ visible: true }));
      this.check();
    },
    detached() {
      (this as unknown as { unsubscribe?: () => void }).unsubscribe?.();
    },
  },
  methods: {
    async check() {
      try {
        const state = await loadPrivacyState();
        this.setData({ version: state.version, accepted: state.accepted, visible: this.data.visible || !state.accepted });
      } catch {
        // Offline: WeChat's own prompt still guards the privacy APIs.
      }
    },
    openContract() {
      wx.openPrivacyContract({});
    },
    async agree() {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        if (this.data.version && !this.data.accepted) await acceptPrivacy(this.data.version);
        this.setData({ accepted: true });
        settlePrivacyRequest('agree', 'privacy-agree');
        this.setData({ visible: false });
        this.triggerEvent('agree');
      } catch (err) {
        wx.showToast({ icon: 'none', title: errorMessage(err) });
      } finally {
        this.setData({ busy: false });
      }
    },
    disagree() {
      settlePrivacyRequest('disagree');
      this.setData({ visible: false });
      this.triggerEvent('disagree');
    },
  },
});
