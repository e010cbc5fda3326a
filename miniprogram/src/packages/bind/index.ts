import { bindingResultText, validateBinding } from '../../models/binding.model';
import { bindTaobaoOrder } from '../../services/binding.service';
import { hasAcceptedPrivacy } from '../../services/privacy.service';
import { showError } from '../../utils/ui';

Component({
  data: { orderNo: '', phoneLast4: '', error: '', resultText: '', busy: false },
  methods: {
    onOrderNo(e: WechatMiniprogram.Input) {
      // Copied order numbers often carry spaces or the "订单号:" label.
      this.setData({ orderNo: e.detail.value.replace(/\D/g, ''), error: '' });
    },
    onPhone(e: WechatMiniprogram.Input) {
      this.setData({ phoneLast4: e.detail.value.replace(/\D/g, ''), error: '' });
    },
    async submit() {
      if (this.data.busy) return;
      if (!hasAcceptedPrivacy()) {
        this.setData({ error: '请先阅读并同意隐私保护指引' });
        return;
      }
      const problem = validateBinding(this.data.orderNo, this.data.phoneLast4);
      if (problem) {
        this.setData({ error: problem });
        return;
      }
      this.setData({ busy: true, error: '' });
      try {
        const result = await bindTaobaoOrder(this.data.orderNo, this.data.phoneLast4);
        this.setData({ resultText: bindingResultText(result) });
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
    goHome() {
      wx.switchTab({ url: '/pages/home/index' });
    },
  },
});
