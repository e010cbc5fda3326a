import { toOrderView, type OrderView } from '../../../models/order.model';
import { cancelOrder, fetchOrder, repayOrder, requestPayment } from '../../../services/order.service';
import { errorMessage } from '../../../services/request';
import { clockText, startCountdown } from '../../../utils/countdown';
import { confirm, showError, showSuccess } from '../../../utils/ui';
import { REFUND_REASONS, toAfterSaleView, type AfterSaleView } from '../../../models/after-sale.model';
import { confirmReceipt, fetchAfterSales, requestAfterSale } from '../../../services/after-sale.service';

// Orders the member may ask a refund of (申请退款), when no request is open.
const REFUNDABLE = ['paid', 'shipped', 'completed'];

// WeChat Pay's client callback comes before the server's payment notification; poll briefly for "paid".
const PAID_POLLS = 5;
const POLL_INTERVAL_MS = 1500;

// The running pay countdown's stop function, kept on the page instance.
interface PayTimer {
  stopPayCountdown?: () => void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Component({
  data: {
    id: '',
    order: null as OrderView | null,
    busy: false,
    confirming: false,
    errorText: '',
    afterSales: [] as AfterSaleView[],
    canRequestRefund: false,
    refundFormOpen: false,
    refundReasons: REFUND_REASONS,
    refundReason: '',
    canConfirmReceipt: false,
    payCountdown: '',
  },
  methods: {
    onUnload() {
      this.stopCountdown();
    },
    // An unpaid order counts down to the server's expiresAt; past it, it can no longer be paid (the server closes it).
    watchPayDeadline(expiresAt: string) {
      this.stopCountdown();
      if (this.data.order?.status !== 'pending_payment') return this.setData({ payCountdown: '' });
      (this as unknown as PayTimer).stopPayCountdown = startCountdown(expiresAt, (left) => {
        if (left > 0) this.setData({ payCountdown: `剩余 ${clockText(left)}，超时订单将自动取消` });
        else this.setData({ payCountdown: '支付已超时，订单将自动取消', 'order.canPay': false });
      });
    },
    stopCountdown() {
      const self = this as unknown as PayTimer;
      self.stopPayCountdown?.();
      self.stopPayCountdown = undefined;
    },
    async onLoad(query: Record<string, string | undefined>) {
      this.setData({ id: query.id ?? '' });
      await this.load();
      if (query.payment === 'paid') await this.waitForPaid();
      else if (query.payment === 'cancelled') wx.showToast({ icon: 'none', title: '支付已取消，可在订单内继续支付' });
    },
    // Without an order yet, a failure shows why and a retry; with one, a toast and the order stays.
    async load() {
      this.setData({ errorText: '' });
      try {
        const order = await fetchOrder(this.data.id);
        this.setData({ order: toOrderView(order), canConfirmReceipt: order.status === 'shipped' });
        this.watchPayDeadline(order.expiresAt);
        await this.loadAfterSales(order.status);
      } catch (err) {
        if (this.data.order) showError(err);
        else this.setData({ errorText: errorMessage(err) });
      }
    },
    retry() {
      return this.load();
    },
    // The order shows without its refund requests when they cannot be read; the button waits until they can.
    async loadAfterSales(status: string) {
      if (!REFUNDABLE.includes(status) && status !== 'refunded') {
        this.setData({ afterSales: [], canRequestRefund: false });
        return;
      }
      try {
        const afterSales = (await fetchAfterSales(this.data.id)).map(toAfterSaleView);
        this.setData({ afterSales, canRequestRefund: REFUNDABLE.includes(status) && !afterSales.some((a) => a.open) });
      } catch {
        this.setData({ canRequestRefund: false });
      }
    },
    openRefundForm() {
      this.setData({ refundFormOpen: true, refundReason: '' });
    },
    closeRefundForm() {
      this.setData({ refundFormOpen: false });
    },
    chooseRefundReason(e: { currentTarget: { dataset: { reason?: string } } }) {
      this.setData({ refundReason: e.currentTarget.dataset.reason ?? '' });
    },
    async confirmReceipt() {
      if (this.data.busy) return;
      if (!(await confirm('确认收货', '确认已收到商品吗？', '确认收货'))) return;
      this.setData({ busy: true });
      try {
        const order = await confirmReceipt(this.data.id);
        this.setData({ order: toOrderView(order), canConfirmReceipt: false });
        showSuccess('已确认收货');
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
    async submitRefund() {
      if (this.data.busy) return;
      if (!this.data.refundReason) {
        wx.showToast({ icon: 'none', title: '请选择退款原因' });
        return;
      }
      if (!(await confirm('申请退款', `申请整单退款（${this.data.refundReason}）？商家同意后原路退回，使用的积分按比例退回。`, '提交申请'))) return;
      this.setData({ busy: true });
      try {
        await requestAfterSale(this.data.id, this.data.refundReason);
        this.setData({ refundFormOpen: false });
        showSuccess('已提交申请');
        await this.load();
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
    async waitForPaid() {
      this.setData({ confirming: true });
      for (let i = 0; i < PAID_POLLS && this.data.order?.status === 'pending_payment'; i++) {
        await sleep(POLL_INTERVAL_MS);
        await this.load();
      }
      this.setData({ confirming: false });
    },
    async pay() {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        const outcome = await requestPayment(await repayOrder(this.data.id));
        if (outcome === 'paid') await this.waitForPaid();
        else if (outcome === 'failed') wx.showToast({ icon: 'none', title: '支付失败，请稍后重试' });
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
    async cancel() {
      if (this.data.busy) return;
      if (!(await confirm('取消订单', '确定取消这个订单吗？使用的积分会退回。', '取消订单'))) return;
      this.setData({ busy: true });
      try {
        const order = await cancelOrder(this.data.id);
        this.setData({ order: toOrderView(order) });
        this.watchPayDeadline(order.expiresAt);
        showSuccess('订单已取消');
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
    copyOrderNo() {
      if (this.data.order) wx.setClipboardData({ data: this.data.order.orderNo });
    },
  },
});
