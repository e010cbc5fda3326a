import { formatFen } from './money';
import { ORDER_STATUS_TEXT } from './order.model';
import { shanghaiDateTime } from '../utils/shanghai-time';

// The member's data export (GET /api/mp/me/export) as a person reads it: Chinese section and field names, amounts in
// yuan, times on the Shanghai clock, codes in words. Nothing is left out: a field without a label keeps its own name.

// By the key's path where a name means something else in another part (store.orders are the shop's own orders).
const PATH_LABELS: Record<string, string> = {
  'store.orders': '商城订单',
  'store.addresses.name': '收货人',
  'store.orders.address.name': '收货人',
  'store.redemptions.address.name': '收货人',
  'store.orders.items.title': '商品',
  'store.cart.title': '商品',
  'giftBox.boxes': '我发起的礼盒',
  'giftBox.helps': '我帮拆的礼盒',
  'giftBox.counts': '各活动的礼盒与帮拆次数',
};

export const SECTION_LABELS: Record<string, string> = {
  member: '会员资料',
  identities: '账号与身份标识',
  orders: '淘宝 / 天猫订单',
  avatar: '头像',
  tierHistory: '等级变化',
  audit: '账号操作记录',
  points: '积分',
  transactions: '积分流水',
  checkIns: '签到',
  days: '签到记录',
  makeUpCards: '补签卡',
  reminder: '签到提醒',
  store: '会员商城',
  addresses: '收货地址',
  redemptions: '积分兑换',
  redemptionCounts: '兑换次数',
  coupons: '优惠券',
  shippingCards: '包邮卡',
  cart: '购物车',
  items: '商品',
  reviewRewards: '晒单评价有礼',
  claims: '申请记录',
  officialAccount: '公众号',
  followers: '关注记录',
  followEvents: '关注与取关',
  messages: '消息',
  miniProgram: '小程序',
  sessions: '登录记录',
  privacyConsent: '隐私保护指引同意记录',
  report_columns: '订单报表中的其他列',
  payments: '微信支付',
  intents: '支付记录',
  refunds: '退款记录',
  afterSales: '售后申请',
  lines: '退款商品',
  giftBox: '拆礼盒',
  counts: '礼盒与帮拆次数',
};

export const FIELD_LABELS: Record<string, string> = {
  exportedAt: '导出时间',
  id: '会员编号',
  nickname: '昵称',
  gender: '性别',
  birthday: '生日',
  region: '地区',
  tags: '标签',
  notes: '备注',
  tier_code: '会员等级',
  created_at: '创建时间',
  createdAt: '时间',
  kind: '类型',
  value: '内容',
  note: '说明',
  channel: '渠道',
  channel_kind: '渠道类型',
  order_no: '订单号',
  status_text: '订单状态',
  status: '状态',
  total_fen: '订单金额',
  paid_fen: '实付金额',
  refund_fen: '退款金额',
  ordered_at: '下单时间',
  paid_at: '付款时间',
  item_title: '商品名称',
  item_count: '件数',
  buyer_nick: '买家昵称',
  receiver_name: '收货人',
  receiver_address: '收货地址',
  receiver_phone: '收货电话',
  buyer_message: '买家留言',
  content_type: '图片格式',
  size_bytes: '大小（字节）',
  updated_at: '更新时间',
  image: '图片（data URL）',
  fromTier: '原等级',
  toTier: '新等级',
  direction: '方向',
  reason: '原因',
  at: '时间',
  action: '操作',
  balance: '当前积分',
  transactionId: '流水号',
  memberId: '会员编号',
  amount: '积分',
  balanceAfter: '变动后余额',
  reversesId: '冲正的流水',
  replayed: '重复请求',
  idempotencyKey: '请求标识',
  day: '日期',
  streak: '连续天数',
  made_up: '补签',
  reward_points: '奖励积分',
  cards: '补签卡数量',
  mp_openid: '小程序用户标识',
  remaining: '剩余提醒次数',
  last_sent_day: '最近提醒日期',
  name: '名称',
  phone: '手机号',
  province: '省份',
  city: '城市',
  district: '区县',
  detail: '详细地址',
  is_default: '默认地址',
  isDefault: '默认地址',
  payer_openid: '付款人标识',
  goods_fen: '商品金额',
  discount_fen: '优惠',
  coupon_fen: '优惠券抵扣',
  points_used: '使用积分',
  points_discount_fen: '积分抵扣',
  shipping_fen: '运费',
  payable_fen: '应付金额',
  points_awarded: '获得积分',
  address: '收货信息',
  transaction_id: '微信支付单号',
  cancelled_at: '取消时间',
  cancel_reason: '取消原因',
  shipping_company: '快递公司',
  tracking_no: '快递单号',
  shipped_at: '发货时间',
  refund_status: '退款状态',
  refund_reason: '退款原因',
  refunded_at: '退款时间',
  title: '商品',
  skuName: '规格',
  sku: '规格',
  quantity: '数量',
  unitPriceFen: '单价',
  item: '兑换项目',
  points_spent: '消耗积分',
  redeemed: '已兑换次数',
  value_fen: '面额',
  min_spend_fen: '使用门槛',
  expires_at: '到期时间',
  used: '已使用',
  period: '时长',
  starts_at: '开始时间',
  campaign: '活动',
  box_id: '礼盒编号',
  box_status: '礼盒状态',
  boxes: '发起礼盒数',
  helps: '帮拆次数',
  helps_required: '需要好友帮拆',
  parent_box_id: '从哪个礼盒发起',
  unlocked_at: '拆开时间',
  rewarded_at: '奖励发放时间',
  reject_reason: '未通过原因',
  reward_kind: '奖励类型',
  amount_fen: '奖励金额',
  screenshot_type: '截图格式',
  screenshot_kept: '截图仍保存',
  failure_reason: '发放失败原因',
  submitted_at: '提交时间',
  decided_at: '审核时间',
  settled_at: '发放时间',
  openid: '公众号用户标识',
  unionid: '微信开放平台标识',
  subscribed: '关注中',
  subscribed_at: '关注时间',
  unsubscribed_at: '取关时间',
  first_seen_at: '首次出现',
  last_event_at: '最近事件',
  first_batch: '首次来自的包裹批次',
  last_batch: '最近的包裹批次',
  event: '事件',
  event_time: '时间',
  batch: '包裹批次',
  msg_type: '消息类型',
  content: '内容',
  sent_at: '时间',
  revoked_at: '退出时间',
  version: '版本',
  accepted_at: '同意时间',
  out_trade_no: '商户订单号',
  state: '状态',
  closed_at: '关闭时间',
  refunded_fen: '已退款金额',
  merchant_note: '商家说明',
  requested_by: '发起方',
};

// Codes the server writes in its own words, by the field that holds them.
const VALUE_LABELS: Record<string, Record<string, string>> = {
  gender: { male: '男', female: '女', unknown: '未知' },
  channel_kind: { taobao: '淘宝', tmall: '天猫' },
  msg_type: { text: '文字', image: '图片', voice: '语音', event: '事件' },
  kind: {
    taobao_buyer: '淘宝买家', phone: '手机号', mp_openid: '小程序', oa_openid: '公众号', unionid: '开放平台', coupon: '优惠券',
    shipping_card: '包邮卡', gift: '实物礼品', earn: '获得', spend: '使用', expire: '过期', adjust: '调整', reverse: '冲正',
  },
  status: { ...ORDER_STATUS_TEXT },
  reward_kind: { cash: '现金', points: '积分' },
  box_status: { open: '待好友帮拆', unlocked: '已拆开', rewarded: '已发奖励', expired: '已失效' },
  direction: { up: '升级', down: '降级', in: '收到', out: '发出' },
  event: { subscribe: '关注', unsubscribe: '取消关注' },
};

const MONEY = /(_fen|Fen)$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

export function fieldLabel(key: string, path = key): string {
  return PATH_LABELS[path] ?? FIELD_LABELS[key] ?? SECTION_LABELS[key] ?? key;
}

function scalar(key: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? '是' : '否';
  // bigint columns come as digit strings.
  if (MONEY.test(key) && (typeof value === 'number' || (typeof value === 'string' && /^-?\d+$/.test(value)))) return formatFen(Number(value));
  if (typeof value === 'string' && ISO.test(value)) return shanghaiDateTime(value);
  if (typeof value === 'string' && VALUE_LABELS[key]?.[value]) return VALUE_LABELS[key]![value]!;
  return String(value);
}

const isPlain = (v: unknown) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'));

function lines(key: string, value: unknown, depth: number, out: string[], path: string): void {
  const indent = '  '.repeat(depth);
  const label = fieldLabel(key, path);
  if (isPlain(value)) {
    const text = Array.isArray(value) ? (value.length ? value.map((v) => scalar(key, v)).join('、') : '—') : scalar(key, value);
    out.push(`${indent}${label}：${text}`);
    return;
  }
  if (Array.isArray(value)) {
    out.push(`${indent}${label}（${value.length} 条）`);
    value.forEach((row, i) => {
      if (isPlain(row)) out.push(`${indent}  ${i + 1}. ${scalar(key, row)}`);
      else {
        out.push(`${indent}  第 ${i + 1} 条`);
        for (const [k, v] of Object.entries(row as Record<string, unknown>)) lines(k, v, depth + 2, out, `${path}.${k}`);
      }
    });
    return;
  }
  out.push(`${indent}【${label}】`);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) lines(k, v, depth + 1, out, `${path}.${k}`);
}

export function readableExport(data: Record<string, unknown>): string {
  const out: string[] = [];
  for (const [key, value] of Object.entries(data)) lines(key, value, 0, out, key);
  return out.join('\n');
}

// Every key of the export without a Chinese label (a section or field the server added since).
export function unlabelledKeys(data: unknown, found = new Set<string>()): string[] {
  if (Array.isArray(data)) data.forEach((v) => unlabelledKeys(v, found));
  else if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data)) {
      // Keys in Chinese already (the Taobao report's own column names) read as they are.
      if (!(k in FIELD_LABELS) && !(k in SECTION_LABELS) && !/[^\x00-\x7f]/.test(k)) found.add(k);
      unlabelledKeys(v, found);
    }
  }
  return [...found].sort();
}
