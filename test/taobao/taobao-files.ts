import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';

/** The seller center's order-report header: the known columns and a tail of others the importer must keep. */
export const ORDER_HEADER = [
  '订单编号', '买家会员名', '买家支付宝账号', '支付单号', '支付详情', '买家应付货款', '买家应付邮费', '买家支付积分', '总金额',
  '返点积分', '买家实际支付金额', '买家实际支付积分', '订单状态', '买家留言', '收货人姓名', '收货地址', '运送方式', '联系电话',
  '联系手机', '订单创建时间', '订单付款时间', '宝贝标题', '宝贝种类', '物流单号', '物流公司', '订单备注', '宝贝总数量',
  '店铺Id', '店铺名称', '订单关闭原因', '卖家服务费', '买家服务费', '发票抬头', '是否手机订单', '分阶段订单信息',
  '特权订金订单id', '是否上传合同照片', '是否上传小票', '是否代付', '定金排名', '修改后的sku', '修改后的收货地址',
  '异常信息', '天猫卡券抵扣', '集分宝抵扣', '是否是O2O交易', '退款金额', '预约门店',
];

export interface OrderRow {
  orderNo: string;
  nick?: string;
  total?: string;
  paid?: string;
  postage?: string;
  status?: string;
  message?: string;
  receiver?: string;
  address?: string;
  phone?: string;
  createdAt?: string;
  paidAt?: string;
  title?: string;
  count?: string;
  store?: string;
  closeReason?: string;
  refund?: string;
  logisticsNo?: string;
}

/** A CSV cell as the seller center writes it: quoted when it holds a comma, quote or line break. */
export function cell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function orderLine(r: OrderRow): string {
  const byName: Record<string, string> = {
    订单编号: `="${r.orderNo}"`,
    买家会员名: cell(r.nick ?? 't**5'),
    买家支付宝账号: cell('a***@163.com'),
    支付单号: `="2026${r.orderNo.slice(-10)}"`,
    买家应付货款: cell(r.total ?? '99.00'),
    买家应付邮费: r.postage ?? '0.00',
    总金额: cell(r.total ?? '99.00'),
    买家实际支付金额: cell(r.paid ?? r.total ?? '99.00'),
    订单状态: cell(r.status ?? '交易成功'),
    买家留言: cell(r.message ?? ''),
    收货人姓名: cell(r.receiver ?? '张*'),
    收货地址: cell(r.address ?? '浙江省 杭州市 西湖区 文三路 100号 310000'),
    运送方式: '快递',
    联系手机: cell(r.phone ?? "'138****6392"),
    订单创建时间: r.createdAt ?? '2026-10-01 10:00:00',
    订单付款时间: r.paidAt ?? r.createdAt ?? '2026-10-01 10:00:05',
    宝贝标题: cell(r.title ?? '雪球 保温杯 500ml'),
    宝贝种类: '1',
    物流单号: r.logisticsNo ?? "'773012345678901",
    宝贝总数量: r.count ?? '1',
    店铺Id: '12345678',
    店铺名称: cell(r.store ?? '雪球旗舰店'),
    订单关闭原因: cell(r.closeReason ?? '订单未关闭'),
    是否手机订单: '手机订单',
    退款金额: r.refund ?? '0.00',
  };
  return ORDER_HEADER.map((h) => byName[h] ?? '').join(',');
}

export const ITEM_HEADER = ['订单编号', '标题', '价格', '购买数量', '外部系统编号', '商品属性', '套餐信息', '备注', '订单状态', '商家编码'];

export function itemLine(orderNo: string, title: string, price: string, qty: string, props = '颜色分类：白色'): string {
  return [`="${orderNo}"`, cell(title), price, qty, '', cell(props), '', '', '交易成功', 'SKU-001'].join(',');
}

export type FileEncoding = 'gbk' | 'utf8' | 'utf8-bom';

/** Writes lines joined with CRLF in the given encoding to a temp file; returns its path. */
export function writeCsv(name: string, lines: string[], encoding: FileEncoding = 'gbk'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-taobao-'));
  const file = path.join(dir, name);
  const text = lines.join('\r\n') + '\r\n';
  const bytes = encoding === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.concat([encoding === 'utf8-bom' ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
  fs.writeFileSync(file, bytes);
  return file;
}

export function ordersFile(rows: OrderRow[], encoding: FileEncoding = 'gbk', extraLines: string[] = []): string {
  return writeCsv('ExportOrderList.csv', [ORDER_HEADER.join(','), ...rows.map(orderLine), ...extraLines], encoding);
}
