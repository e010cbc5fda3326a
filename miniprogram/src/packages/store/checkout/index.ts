import type { Address } from '../../../models/api-types';
import { addressLine, defaultAddress } from '../../../models/address.model';
import {
  checkoutLinesFromCart, checkoutLinesFromSku, computeCheckout, type CheckoutLineView, type CheckoutSummary,
} from '../../../models/checkout.model';
import { fetchAddresses } from '../../../services/address.service';
import { fetchMemberCard } from '../../../services/member.service';
import { placeOrder, requestPayment } from '../../../services/order.service';
import { fetchCart, fetchProduct, setCartQuantity } from '../../../services/store.service';
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

Component({
  data: {
    lines: [] as CheckoutLineView[],
    fromCart: false,
    address: null as AddressChoice | null,
    addresses: [] as Address[],
    pointsBalance: 0,
    freeShipping: false,
    usePoints: true,
    summary: null as CheckoutSummary | null,
    submitting: false,
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      try {
        const [lines, card, addresses] = await Promise.all([this.loadLines(query), fetchMemberCard(), fetchAddresses()]);
        const chosen = defaultAddress(addresses);
        this.setData({
          lines,
          fromCart: query.from === 'cart',
          addresses,
          address: chosen ? toAddressChoice(chosen) : null,
          pointsBalance: card.pointsBalance,
          freeShipping: card.tier.perks.freeShipping,
        });
        this.recompute();
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
    recompute() {
      this.setData({
        summary: computeCheckout({
          lines: this.data.lines,
          pointsBalance: this.data.pointsBalance,
          usePoints: this.data.usePoints,
          freeShipping: this.data.freeShipping,
        }),
      });
    },
    togglePoints(e: WechatMiniprogram.SwitchChange) {
      this.setData({ usePoints: e.detail.value });
      this.recompute();
    },
    chooseAddress() {
      wx.navigateTo({ url: '/packages/addresses/list/index?select=1' });
    },
    async submit() {
      const { address, summary, lines, submitting } = this.data;
      if (submitting || !summary || lines.length === 0) return;
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
        });
        if (this.data.fromCart) await this.clearOrderedLines();
        const outcome = await requestPayment(payment);
        wx.redirectTo({ url: `/packages/orders/detail/index?id=${order.id}&payment=${outcome}` });
      } catch (err) {
        showError(err);
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
