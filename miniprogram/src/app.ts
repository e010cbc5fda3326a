import { requestPrivacyAuthorization, type PrivacyResolve } from './utils/privacy-bus';
import { login } from './services/request';

App({
  onLaunch() {
    // WeChat asks before the first privacy API call; the popup on screen answers it.
    if (wx.onNeedPrivacyAuthorization) {
      // The typings describe the listener's argument as a result object; at run time it is the resolve function.
      wx.onNeedPrivacyAuthorization((resolve) => requestPrivacyAuthorization(resolve as unknown as PrivacyResolve));
    }
    // Log in early so the first page has a session; pages log in on demand if this fails.
    login().catch(() => undefined);
  },
});
