import iconv from 'iconv-lite';

/** The seller center's order-report columns, in its order; the demo fills the ones a shop's export has values in. */
const HEADER = [
  '订单编号', '买家会员名', '买家支付宝账号', '支付单号', '支付详情', '买家应付货款', '买家应付邮费', '买家支付积分', '总金额',
  '返点积分', '买家实际支付金额', '买家实际支付积分', '订单状态', '买家留言', '收货人姓名', '收货地址', '运送方式', '联系电话',
  '联系手机', '订单创建时间', '订单付款时间', '宝贝标题', '宝贝种类', '物流单号', '物流公司', '订单备注', '宝贝总数量',
  '店铺Id', '店铺名称', '订单关闭原因', '卖家服务费', '买家服务费', '发票抬头', '是否手机订单', '分阶段订单信息',
  '特权订金订单id', '是否上传合同照片', '是否上传小票', '是否代付', '定金排名', '修改后的sku', '修改后的收货地址',
  '异常信息', '天猫卡券抵扣', '集分宝抵扣', '是否是O2O交易', '退款金额', '预约门店',
];

const PRODUCTS: Array<{ title: string; priceFen: number }> = [
  { title: '雪球 316不锈钢保温杯 500ml 白色', priceFen: 12_900 },
  { title: '雪球 随行咖啡杯 350ml "通勤款"', priceFen: 8_900 },
  { title: '雪球 儿童吸管保温壶 600ml, 防漏', priceFen: 15_900 },
  { title: '雪球 焖烧罐 1L 早餐款', priceFen: 19_900 },
  { title: '雪球 杯刷清洁套装 3件', priceFen: 2_900 },
  { title: '雪球 茶水分离杯 420ml', priceFen: 10_900 },
];

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高';
const NICK_HEADS = 'abcdefghjkmnpqrstwxyz';
const PHONE_HEADS = ['130', '131', '135', '136', '137', '138', '139', '150', '151', '158', '159', '177', '186', '187', '188', '199'];
const PLACES = [
  '浙江省 杭州市 西湖区 文三路', '上海 上海市 浦东新区 张杨路', '广东省 深圳市 南山区 科技园路', '北京 北京市 朝阳区 建国路',
  '江苏省 南京市 鼓楼区 中山北路', '四川省 成都市 武侯区 天府大道', '湖北省 武汉市 洪山区 珞喻路', '福建省 厦门市 思明区 湖滨南路',
];
const MESSAGES = ['', '', '', '', '请尽快发货，谢谢', '送人的，不要放发票', '麻烦包装结实一点,\n谢谢', '颜色要白色的"不要黑色"'];
const STATUS_MIX: Array<[string, number]> = [
  ['交易成功', 70],
  ['卖家已发货，等待买家确认', 12],
  ['买家已付款，等待卖家发货', 8],
  ['交易关闭', 6],
  ['等待买家付款', 4],
];

export interface DemoBuyer {
  nick: string;
  receiver: string;
  phoneMasked: string;
  phoneLast4: string;
}

export interface DemoOrder {
  orderNo: string;
  buyer: DemoBuyer;
  status: string;
  title: string;
  quantity: number;
  totalFen: number;
  orderedAt: Date;
}

export interface DemoExport {
  /** The order report as the seller center writes it: GBK, CRLF, `="…"` order numbers. */
  bytes: Buffer;
  orders: DemoOrder[];
}

/** A small deterministic generator (mulberry32): the same seed gives the same shop. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const yuan = (fen: number) => (fen / 100).toFixed(2);
const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Seller-center local time: Asia/Shanghai, `YYYY-MM-DD HH:mm:ss`. */
function shanghaiTime(d: Date): string {
  const local = new Date(d.getTime() + 8 * 3_600_000);
  return local.toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A Taobao order report of `count` orders over the last 60 days, by buyers who each bought one to four times,
 * masked the way the seller center masks since 2021 (nick `t**5`, phone `138****6392`, receiver `张*`).
 */
export function generateDemoExport(opts: { count: number; now: Date; seed: number; storeName: string }): DemoExport {
  const rand = rng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
  const usedLast4 = new Set<string>();
  const orders: DemoOrder[] = [];
  const usedNos = new Set<string>();
  while (orders.length < opts.count) {
    // Each buyer gets distinct last-4 digits so a hint never names two buyers at once.
    let last4 = digits(4);
    while (usedLast4.has(last4)) last4 = digits(4);
    usedLast4.add(last4);
    const buyer: DemoBuyer = {
      nick: `${pick([...NICK_HEADS])}**${pick([...NICK_HEADS, ...'0123456789'])}`,
      receiver: `${pick([...SURNAMES])}*`,
      phoneMasked: `${pick(PHONE_HEADS)}****${last4}`,
      phoneLast4: last4,
    };
    const times = 1 + Math.floor(rand() * rand() * 4);
    for (let i = 0; i < times && orders.length < opts.count; i++) {
      let orderNo = `${pick(['2', '3', '4'])}${digits(18)}`;
      while (usedNos.has(orderNo)) orderNo = `${pick(['2', '3', '4'])}${digits(18)}`;
      usedNos.add(orderNo);
      let r = rand() * 100;
      let status = STATUS_MIX[0]![0];
      for (const [s, weight] of STATUS_MIX) {
        if (r < weight) {
          status = s;
          break;
        }
        r -= weight;
      }
      const product = pick(PRODUCTS);
      const qty = rand() < 0.8 ? 1 : 2;
      orders.push({
        orderNo,
        buyer,
        status,
        title: product.title,
        quantity: qty,
        totalFen: product.priceFen * qty,
        orderedAt: new Date(opts.now.getTime() - Math.floor(rand() * 60 * 86_400_000) - 3_600_000),
      });
    }
  }
  orders.sort((a, b) => b.orderedAt.getTime() - a.orderedAt.getTime());
  const lines = [HEADER.join(',')];
  for (const o of orders) {
    const paid = o.status !== '等待买家付款';
    const closed = o.status === '交易关闭';
    const values: Record<string, string> = {
      订单编号: `="${o.orderNo}"`,
      买家会员名: o.buyer.nick,
      买家支付宝账号: `${o.buyer.nick.slice(0, 1)}***@163.com`,
      支付单号: paid ? `="${o.orderedAt.getTime()}${o.orderNo.slice(-6)}"` : '',
      买家应付货款: yuan(o.totalFen),
      买家应付邮费: '0.00',
      总金额: yuan(o.totalFen),
      买家实际支付金额: paid && !closed ? yuan(o.totalFen) : '0.00',
      订单状态: o.status,
      买家留言: cell(pick(MESSAGES)),
      收货人姓名: o.buyer.receiver,
      收货地址: `${pick(PLACES)} ${1 + Math.floor(rand() * 300)}号 ${digits(6)}`,
      运送方式: '快递',
      联系手机: `'${o.buyer.phoneMasked}`,
      订单创建时间: shanghaiTime(o.orderedAt),
      订单付款时间: paid ? shanghaiTime(new Date(o.orderedAt.getTime() + 30_000)) : '',
      宝贝标题: cell(o.title),
      宝贝种类: '1',
      物流单号: o.status === '交易成功' || o.status.includes('已发货') ? `'7730${digits(11)}` : '',
      物流公司: o.status === '交易成功' || o.status.includes('已发货') ? '中通快递' : '',
      宝贝总数量: String(o.quantity),
      店铺Id: '57300001',
      店铺名称: cell(opts.storeName),
      订单关闭原因: closed ? '买家不想买了' : '订单未关闭',
      是否手机订单: '手机订单',
      退款金额: '0.00',
    };
    lines.push(HEADER.map((h) => values[h] ?? '').join(','));
  }
  return { bytes: iconv.encode(lines.join('\r\n') + '\r\n', 'gbk'), orders };
}
