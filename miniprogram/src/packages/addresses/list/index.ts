import { toAddressView, type AddressView } from '../../../models/address.model';
import { deleteAddress, fetchAddresses, updateAddress } from '../../../services/address.service';
import { selectAddress } from '../../../utils/address-selection';
import { confirm, showError } from '../../../utils/ui';

Component({
  data: { addresses: [] as AddressView[], selecting: false, loaded: false },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ selecting: query.select === '1' });
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
        this.setData({ addresses: (await fetchAddresses()).map(toAddressView), loaded: true });
      } catch (err) {
        this.setData({ loaded: true });
        showError(err);
      }
    },
    pick(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      if (!this.data.selecting) return;
      selectAddress(e.currentTarget.dataset.id);
      wx.navigateBack();
    },
    edit(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `/packages/addresses/edit/index?id=${e.currentTarget.dataset.id}` });
    },
    add() {
      wx.navigateTo({ url: '/packages/addresses/edit/index' });
    },
    async makeDefault(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      try {
        await updateAddress(e.currentTarget.dataset.id, { isDefault: true });
        await this.load();
      } catch (err) {
        showError(err);
      }
    },
    async remove(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      if (!(await confirm('删除地址', '确定删除这个收货地址吗？', '删除'))) return;
      try {
        await deleteAddress(e.currentTarget.dataset.id);
        await this.load();
      } catch (err) {
        showError(err);
      }
    },
  },
});
