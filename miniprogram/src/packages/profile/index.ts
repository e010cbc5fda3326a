import { avatarSrc, validateNickname } from '../../models/member.model';
import { fetchMemberCard, saveNickname, uploadAvatar } from '../../services/member.service';
import { hasAcceptedPrivacy } from '../../services/privacy.service';
import { showError, showSuccess } from '../../utils/ui';

const PRIVACY_FIRST = '请先阅读并同意隐私保护指引';

// 头像与昵称: WeChat's chooseAvatar button gives a temporary image, uploaded at once; the nickname input (type
// nickname, which offers the WeChat nickname above the keyboard) is read from the form on submit, because WeChat
// checks it on blur and clears what fails its check.
Component({
  data: { avatarUrl: '', nickname: '', error: '', busy: false, uploading: false, nicknameRefused: false },
  methods: {
    async onLoad() {
      try {
        const card = await fetchMemberCard();
        this.setData({ avatarUrl: avatarSrc(card.avatarUrl), nickname: card.nickname ?? '' });
      } catch (err) {
        showError(err);
      }
    },
    async onChooseAvatar(e: WechatMiniprogram.CustomEvent<{ avatarUrl: string }>) {
      const { avatarUrl } = e.detail;
      if (!avatarUrl || this.data.uploading) return;
      if (!hasAcceptedPrivacy()) {
        this.setData({ error: PRIVACY_FIRST });
        return;
      }
      this.setData({ uploading: true, error: '' });
      try {
        this.setData({ avatarUrl: avatarSrc(await uploadAvatar(avatarUrl)) });
        showSuccess('头像已更新');
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ uploading: false });
      }
    },
    onNicknameInput() {
      if (this.data.error || this.data.nicknameRefused) this.setData({ error: '', nicknameRefused: false });
    },
    // WeChat's content check of the nickname, after blur: a refused one is cleared by WeChat and not saved here.
    onNicknameReview(e: WechatMiniprogram.CustomEvent<{ pass: boolean; timeout: boolean }>) {
      if (e.detail.pass) this.setData({ nicknameRefused: false });
      else this.setData({ nicknameRefused: true, error: '这个昵称未通过微信的内容检查，请换一个' });
    },
    async save(e: WechatMiniprogram.FormSubmit) {
      if (this.data.busy) return;
      if (this.data.nicknameRefused) return;
      if (!hasAcceptedPrivacy()) {
        this.setData({ error: PRIVACY_FIRST });
        return;
      }
      const input = String((e.detail.value as Record<string, unknown>).nickname ?? '');
      const problem = validateNickname(input);
      if (problem) {
        this.setData({ error: problem });
        return;
      }
      this.setData({ busy: true, error: '' });
      try {
        this.setData({ nickname: await saveNickname(input.trim()) });
        showSuccess('昵称已保存');
      } catch (err) {
        showError(err);
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});
