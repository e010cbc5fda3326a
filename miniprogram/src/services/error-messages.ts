// Stable server error codes → what a member reads. Unknown codes fall back by HTTP status.
const MESSAGES: Record<string, string> = {
  invalid: '提交的信息有误，请检查后重试',
  unauthorized: '登录已失效，请重新进入小程序',
  missing_token: '登录已失效，请重新进入小程序',
  invalid_session: '登录已失效，请重新进入小程序',
  session_expired: '登录已过期，请重新进入小程序',
  forbidden: '没有权限进行此操作',
  not_found: '内容不存在或已下架',
  conflict: '操作冲突，请刷新后重试',
  rate_limited: '操作太频繁，请稍后再试',
  unavailable: '服务暂时不可用，请稍后再试',
  privacy_consent_required: '请先阅读并同意隐私保护指引',
  order_not_found: '没有找到这个订单，请核对订单号',
  phone_mismatch: '手机号后四位与订单不一致',
  already_bound_to_other: '该订单已被其他微信账号绑定，如有疑问请联系客服',
  too_many_attempts: '尝试次数过多，请稍后再试',
  already_checked_in: '今天已经签到过了，明天再来吧',
  own_box: '不能给自己的礼盒助力，分享给好友帮你拆吧',
  already_helped: '你已经帮 TA 拆过这个礼盒了',
  box_full: '这个礼盒已经拆开了',
  box_expired: '活动已结束，礼盒已失效',
  box_not_found: '没有找到这个礼盒',
  box_limit_reached: '你已经发起过礼盒了，去「我的礼盒」看看吧',
  help_limit_reached: '本次活动你的助力次数已用完',
  new_members_only: '本活动仅限新会员助力',
  campaign_ended: '活动已结束',
  campaign_not_started: '活动还没有开始',
  no_make_up_card: '补签卡不足',
  not_missed: '这一天不需要补签',
  too_old: '只能补签本月内较近的日期',
  insufficient_points: '积分不足',
  out_of_stock: '库存不足，换个商品看看吧',
  limit_reached: '已达到每人兑换上限',
  address_required: '请先选择收货地址',
  coupon_invalid: '优惠券不可用',
  points_over_limit: '积分抵扣超过本单上限',
  nickname_empty: '请填写昵称',
  nickname_too_long: '昵称最多 32 个字',
  nickname_invalid: '昵称只能是一行文字',
  avatar_not_image: '头像需为 JPG、PNG 或 WebP 图片',
  avatar_too_large: '头像图片不能超过 1 MB',
  avatar_missing: '请选择头像',
  network_error: '网络连接失败，请检查网络后重试',
  timeout: '网络超时，请稍后重试',
  login_failed: '微信登录失败，请稍后重试',
};

export function messageForError(code: string, status: number): string {
  const known = MESSAGES[code];
  if (known) return known;
  if (status === 401) return MESSAGES.unauthorized;
  if (status === 403) return MESSAGES.forbidden;
  if (status === 404) return MESSAGES.not_found;
  if (status === 409) return MESSAGES.conflict;
  if (status === 429) return MESSAGES.rate_limited;
  if (status >= 500) return '服务器开小差了，请稍后再试';
  return '操作失败，请稍后重试';
}
