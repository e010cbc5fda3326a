import type { AddressInput } from '../../../models/api-types';
import { validateAddress } from '../../../models/address.model';
import { createAddress, fetchAddresses, updateAddress } from '../../../services/address.service';
import { hasAcceptedPrivacy } from '../../../services/privacy.service';
import { showError, showSuccess } from '../../../utils/ui';

const EMPTY: AddressInput = { name: '', phone: '', province: '', city: '', district: '', detail: '', isDefault: false };

Component({
  data: { id: '', form: { ...EMPTY }, maskedPhone: '', region: [] as string[], saving: false },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      if (!query.id) return;
      wx.setNavigationBarTitle({ title: '编辑地址' });
      try {
        const found = (await fetchAddresses()).find((a) => a.id === query.id);
        if (!found) return;
        // The list holds a masked phone; the field stays empty unless the member types a new number.
        const { id, phone, ...rest } = found;
        this.setData({ id, form: { ...rest, phone: '' }, maskedPhone: phone, region: [rest.province, rest.city, rest.district] });
      } catch (err) {
        showError(err);
      }
    },
    onInput(e: WechatMiniprogram.Input & { currentTarget: { dataset: { field: keyof AddressInput } } }) {
      this.setData({ [`form.${e.currentTarget.dataset.field}`]: e.detail.value });
    },
    onRegion(e: WechatMiniprogram.PickerChange) {
      const [province, city, district] = e.detail.value as string[];
      this.setData({ region: [province, city, district], 'form.province': province, 'form.city': city, 'form.district': district });
    },
    onDefault(e: WechatMiniprogram.SwitchChange) {
      this.setData({ 'form.isDefault': e.detail.value });
    },
    // Imports from WeChat's address book; WeChat asks for privacy consent first (the popup answers it).
    importFromWechat() {
      wx.chooseAddress({
        success: (res) => {
          this.setData({
            form: {
              name: res.userName, phone: res.telNumber, province: res.provinceName, city: res.cityName,
              district: res.countyName, detail: res.detailInfo, isDefault: this.data.form.isDefault,
            },
            region: [res.provinceName, res.cityName, res.countyName],
          });
        },
      });
    },
    async save() {
      if (this.data.saving) return;
      if (!hasAcceptedPrivacy()) {
        wx.showToast({ icon: 'none', title: '请先阅读并同意隐私保护指引' });
        return;
      }
      const form = this.data.form;
      const problem = validateAddress(form, !this.data.id);
      if (problem) {
        wx.showToast({ icon: 'none', title: problem });
        return;
      }
      this.setData({ saving: true });
      try {
        if (this.data.id) {
          const { phone, ...rest } = form;
          await updateAddress(this.data.id, phone ? form : rest);
        } else {
          await createAddress(form);
        }
        showSuccess('已保存');
        wx.navigateBack();
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ saving: false });
      }
    },
  },
});
