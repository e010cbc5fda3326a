import { toClaimView, validateClaim, type ClaimView } from '../../models/review.model';
import { hasAcceptedPrivacy } from '../../services/privacy.service';
import { listReviewClaims, submitReviewClaim, transferPackage } from '../../services/review.service';
import { showError, showSuccess } from '../../utils/ui';

// 晒单评价有礼: claim the reward for a completed order with the review's screenshot, follow the claims, and confirm
// a cash reward (WeChat Pay merchant transfer) once it is approved.
Component({
  data: { orderNo: '', shotPath: '', error: '', busy: false, claims: [] as ClaimView[] },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      if (query.orderNo) this.setData({ orderNo: query.orderNo.replace(/\D/g, '') });
    },
    onShow() {
      this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    async load() {
      try {
        this.setData({ claims: (await listReviewClaims()).map(toClaimView) });
      } catch (err) {
        showError(err);
      }
    },
    onOrderNo(e: WechatMiniprogram.Input) {
      this.setData({ orderNo: e.detail.value.replace(/\D/g, ''), error: '' });
    },
    chooseShot() {
      wx.chooseMedia({
        count: 1,
        mediaType: ['image'],
        sourceType: ['album'],
        success: (res) => this.setData({ shotPath: res.tempFiles[0].tempFilePath, error: '' }),
      });
    },
    async submit() {
      if (this.data.busy) return;
      if (!hasAcceptedPrivacy()) {
        this.setData({ error: '请先阅读并同意隐私保护指引' });
        return;
      }
      const problem = validateClaim(this.data.orderNo, this.data.shotPath);
      if (problem) {
        this.setData({ error: problem });
        return;
      }
      this.setData({ busy: true, error: '' });
      try {
        await submitReviewClaim(this.data.orderNo, this.data.shotPath);
        this.setData({ orderNo: '', shotPath: '' });
        showSuccess('已提交，等待商家审核');
        await this.load();
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
    async confirm(e: WechatMiniprogram.TouchEvent) {
      const id = String(e.currentTarget.dataset.id);
      try {
        const t = await transferPackage(id);
        await new Promise<void>((resolve, reject) => {
          wx.requestMerchantTransfer({ mchId: t.mchId, appId: t.appId, package: t.package, success: () => resolve(), fail: (err) => reject(err) });
        });
        showSuccess('已确认收款');
      } catch {
        // Cancelled in WeChat's sheet: the claim stays waiting for confirmation.
      }
      await this.load();
    },
  },
});
