import type { Address, CheckoutQuote, WalletCoupon } from '../../../models/api-types';
import { addressLine, defaultAddress } from '../../../models/address.model';
import {
  checkoutLinesFromCart, checkoutLinesFromSku, checkoutSummary, couponChoices,
  type CheckoutLineView, type CheckoutSummary, type CouponChoice,
} from '../../../models/checkout.model';
import { fetchAddresses } from '../../../services/address.service';
import { placeOrder, quoteOrder, requestPayment } from '../../../services/order.service';
import { fetchCart, fetchProduct, setCartQuantity } from '../../../services/store.service';
import { fetchWallet } from '../../../services/wallet.service';
import { ApiError } from '../../../services/request';
import { takeSelectedAddress } from '../../../utils/address-selection';
import { showError } from '../../../utils/ui';

interface AddressChoice {
  id: string;
  receiver: string;
  line: string;
}

function toAddressChoice(a: Address): AddressChoice {
  return { id: a.id, receiver: `${a.name} ${a.phone}`, line: addressLine(a) };
}

// Answers of an older quote arriving after a newer one are dropped.
let quoteSeq = 0;

Component({
  data: {
    lines: [] as CheckoutLineView[],
    fromCart: false,
    address: null as AddressChoice | null,
    addresses: [] as Address[],
    coupons: [] as WalletCoupon[],
    couponChoices: [] as CouponChoice[],
    usableCoupons: 0,
    couponId: '',
    couponName: '',
    pickingCoupon: false,
    // Off until the member turns it on; the server's cap is what is then used.
    usePoints: false,
    summary: null as CheckoutSummary | null,
    quoting: false,
    quoteError: '',
    submitting: false,
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      try {
        const [lines, addresses, wallet] = await Promise.all([this.loadLines(query), fetchAddresses(), fetchWallet()]);
        const chosen = defaultAddress(addresses);
        this.setData({
          lines,
          fromCart: query.from === 'cart',
          addresses,
          address: chosen ? toAddressChoice(chosen) : null,
          coupons: wallet.coupons,
        });
        await this.requote();
      } catch (err) {
        showError(err);
      }
    },
    async onShow() {
      const picked = takeSelectedAddress();
      if (!picked) return;
      try {
        const addresses = await fetchAddresses();
        const address = addresses.find((a) => a.id === picked);
        this.setData({ addresses, address: address ? toAddressChoice(address) : this.data.address });
      } catch (err) {
        showError(err);
      }
    },
    async loadLines(query: Record<string, string | undefined>): Promise<CheckoutLineView[]> {
      if (query.from === 'cart') return checkoutLinesFromCart(await fetchCart());
      const product = await fetchProduct(query.productId ?? '');
      return checkoutLinesFromSku(product, query.skuId ?? '', Number(query.quantity));
    },
    // The server prices the order as placing it will: first without points (its cap comes back), then with the cap.
    async requote() {
      const { lines, couponId, usePoints } = this.data;
      if (lines.length === 0) return;
      const seq = ++quoteSeq;
      const items = lines.map((l) => ({ skuId: l.skuId, quantity: l.quantity }));
      this.setData({ quoting: true, quoteError: '' });
      try {
        let quote: CheckoutQuote = await quoteOrder({ items, pointsToUse: 0, couponId: couponId || undefined });
        if (usePoints && quote.maxPoints > 0) quote = await quoteOrder({ items, pointsToUse: quote.maxPoints, couponId: couponId || undefined });
        if (seq !== quoteSeq) return;
        const choices = couponChoices(this.data.coupons, quote.memberGoodsFen);
        this.setData({
          summary: checkoutSummary(quote),
          couponChoices: choices,
          usableCoupons: choices.filter((c) => c.usable).length,
          usePoints: usePoints && quote.maxPoints > 0,
          quoting: false,
        });
      } catch (err) {
        if (seq !== quoteSeq) return;
        if (err instanceof ApiError && err.code === 'coupon_invalid' && couponId) {
          // The coupon went (used on another order, expired): price without it.
          showError(err);
          this.setData({ couponId: '', couponName: '' });
          await this.requote();
          return;
        }
        this.setData({ summary: null, quoting: false, quoteError: err instanceof ApiError ? err.message : '价格计算失败，请重试' });
      }
    },
    retryQuote() {
      return this.requote();
    },
    togglePoints(e: WechatMiniprogram.SwitchChange) {
      this.setData({ usePoints: e.detail.value });
      return this.requote();
    },
    openCoupons() {
      if (this.data.coupons.length === 0) return;
      this.setData({ pickingCoupon: !this.data.pickingCoupon });
    },
    pickCoupon(e: WechatMiniprogram.TouchEvent) {
      const id = String(e.currentTarget.dataset.id ?? '');
      const choice = this.data.couponChoices.find((c) => c.id === id);
      if (id && (!choice || !choice.usable)) return;
      this.setData({ couponId: id, couponName: choice ? choice.name : '', pickingCoupon: false });
      return this.requote();
    },
    chooseAddress() {
      wx.navigateTo({ url: '/packages/addresses/list/index?select=1' });
    },
    async submit() {
      const { address, summary, lines, submitting, quoting } = this.data;
      if (submitting || quoting || !summary || lines.length === 0) return;
      if (!address) {
        wx.showToast({ icon: 'none', title: '请先添加收货地址' });
        return;
      }
      this.setData({ submitting: true });
      try {
        const { order, payment } = await placeOrder({
          items: lines.map((l) => ({ skuId: l.skuId, quantity: l.quantity })),
          addressId: address.id,
          pointsToUse: summary.pointsToUse,
          couponId: summary.couponId ?? undefined,
        });
        if (this.data.fromCart) await this.clearOrderedLines();
        const outcome = await requestPayment(payment);
        wx.redirectTo({ url: `/packages/orders/detail/index?id=${order.id}&payment=${outcome}` });
      } catch (err) {
        showError(err);
        // Prices, stock or the balance moved: show what an order would now carry.
        await this.requote();
      } finally {
        this.setData({ submitting: false });
      }
    },
    // The ordered lines leave the cart; a failure here must not block paying.
    async clearOrderedLines() {
      for (const line of this.data.lines) {
        await setCartQuantity(line.skuId, 0).catch(() => undefined);
      }
    },
  },
});
