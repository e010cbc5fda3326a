import type { MallItem } from '../../models/api-types';
import { defaultAddress } from '../../models/address.model';
import { toMallItemView, type MallItemView } from '../../models/product.model';
import { fetchAddresses } from '../../services/address.service';
import { fetchMemberCard } from '../../services/member.service';
import { fetchMallItems, redeemMallItem } from '../../services/points.service';
import { takeSelectedAddress } from '../../utils/address-selection';
import { confirm, showError, showSuccess } from '../../utils/ui';

Component({
  data: { items: [] as MallItemView[], balance: 0, loaded: false, busyId: '', pendingItemId: '' },
  methods: {
    async onShow() {
      await this.load();
      // Back from picking an address for a gift: finish that redemption.
      const addressId = takeSelectedAddress();
      const itemId = this.data.pendingItemId;
      if (addressId && itemId) {
        this.setData({ pendingItemId: '' });
        await this.redeemWith(itemId, addressId);
      }
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    async load() {
      try {
        const [items, card] = await Promise.all([fetchMallItems(), fetchMemberCard()]);
        this.show(items, card.pointsBalance);
      } catch (err) {
        this.setData({ loaded: true });
        showError(err);
      }
    },
    show(items: MallItem[], balance: number) {
      this.setData({ items: items.map((item) => toMallItemView(item, balance)), balance, loaded: true });
    },
    async redeem(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      const item = this.data.items.find((i) => i.id === e.currentTarget.dataset.id);
      if (!item || item.blockedReason || this.data.busyId) return;
      if (!(await confirm('积分兑换', `使用 ${item.pointsCost} 积分兑换「${item.name}」？`, '兑换'))) return;
      if (!item.needsAddress) {
        await this.redeemWith(item.id);
        return;
      }
      try {
        const address = defaultAddress(await fetchAddresses());
        if (address) await this.redeemWith(item.id, address.id);
        else {
          this.setData({ pendingItemId: item.id });
          wx.navigateTo({ url: '/packages/addresses/list/index?select=1' });
        }
      } catch (err) {
        showError(err);
      }
    },
    async redeemWith(itemId: string, addressId?: string) {
      this.setData({ busyId: itemId });
      try {
        const result = await redeemMallItem(itemId, addressId);
        showSuccess(`兑换成功，剩余 ${result.pointsBalance} 积分`);
        await this.load();
      } catch (err) {
        showError(err);
        await this.load();
      } finally {
        this.setData({ busyId: '' });
      }
    },
  },
});
