// The one place to point the mini-program at a server; see miniprogram/README.md.
export const config = {
  // Base URL of the Snowball server (no trailing slash). In production an HTTPS domain listed under
  // 小程序后台 → 开发管理 → 服务器域名 (request 合法域名).
  apiBaseUrl: 'http://127.0.0.1:3000',
  // Subscription-message template for the daily check-in reminder (小程序后台 → 订阅消息).
  checkInReminderTemplateId: 'CHECK_IN_REMINDER_TEMPLATE_ID',
  // Title of the share card of the store.
  storeShareTitle: '会员商城：会员价 + 积分抵现',
};
