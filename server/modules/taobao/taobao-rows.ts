import { hash as digest } from 'node:crypto';
import { normalizePhone, phoneHash } from '../members/member-identity';

/** An order-report row ready for the staging table (money in fen, times as ISO with +08:00). */
export interface StagedOrder {
  line: number;
  orderNo: string;
  storeName: string | null;
  buyerNick: string | null;
  /** md5 of the buyer's key (nick, full phone or masked triple): the order's `buyer_key` and the buyer identity's value. */
  buyerKey: string;
  state: OrderState;
  statusText: string;
  totalFen: number;
  paidFen: number;
  postageFen: number;
  refundFen: number;
  orderedAt: string | null;
  paidAt: string | null;
  itemTitle: string | null;
  itemCount: number | null;
  closeReason: string | null;
  buyerMessage: string | null;
  receiverName: string | null;
  receiverAddress: string | null;
  receiverPhone: string | null;
  phoneLast4: string | null;
  phoneHash: string | null;
  /** The unknown columns' values in the header's order (JSON array text); their names are the import's. */
  extra: string;
}

export interface StagedItem {
  line: number;
  orderNo: string;
  title: string | null;
  priceFen: number | null;
  quantity: number | null;
  sku: string | null;
  props: string | null;
  extra: string;
}

export type OrderState = 'pending' | 'paid' | 'shipped' | 'completed' | 'closed';

export class RowError extends Error {}

type OrderField =
  | 'orderNo' | 'buyerNick' | 'postage' | 'total' | 'paid' | 'status' | 'message' | 'receiverName' | 'address'
  | 'phone' | 'createdAt' | 'paidAt' | 'title' | 'count' | 'store' | 'closeReason' | 'refund';

/** Seller-center headers (and common ERP spellings) → fields; every other column is kept in `extra`. */
const ORDER_HEADERS: Record<string, OrderField> = {
  订单编号: 'orderNo', 订单号: 'orderNo',
  买家会员名: 'buyerNick', 买家昵称: 'buyerNick',
  买家应付邮费: 'postage',
  总金额: 'total', 订单金额: 'total',
  买家实际支付金额: 'paid', 买家实付金额: 'paid', 实付金额: 'paid',
  订单状态: 'status',
  买家留言: 'message',
  收货人姓名: 'receiverName',
  收货地址: 'address',
  联系手机: 'phone', 收货人手机号: 'phone',
  订单创建时间: 'createdAt',
  订单付款时间: 'paidAt', 付款时间: 'paidAt',
  宝贝标题: 'title',
  宝贝总数量: 'count', 宝贝种类: 'count',
  店铺名称: 'store',
  订单关闭原因: 'closeReason',
  退款金额: 'refund',
};

type ItemField = 'orderNo' | 'title' | 'price' | 'quantity' | 'sku' | 'props';
const ITEM_HEADERS: Record<string, ItemField> = {
  订单编号: 'orderNo', 订单号: 'orderNo',
  标题: 'title', 宝贝标题: 'title', 商品标题: 'title',
  价格: 'price', 单价: 'price',
  购买数量: 'quantity', 数量: 'quantity',
  商家编码: 'sku',
  商品属性: 'props', 销售属性: 'props',
};

export interface HeaderMap<F extends string> {
  index: Partial<Record<F, number>>;
  /** The other columns' positions, names, and names as JSON keys (`"物流单号":`), for `extra`; worked out once per file. */
  extraColumns: number[];
  extraNames: string[];
  extraKeys: string[];
}

function mapHeader<F extends string>(header: string[], table: Record<string, F>): HeaderMap<F> {
  const index: Partial<Record<F, number>> = {};
  const unknown: Array<[number, string]> = [];
  header.forEach((h, i) => {
    const name = h.replace(/^\uFEFF/, '').trim();
    const field = table[name];
    if (field !== undefined && index[field] === undefined) index[field] = i;
    else if (name) unknown.push([i, name]);
  });
  return {
    index,
    extraColumns: unknown.map(([i]) => i),
    extraNames: unknown.map(([, name]) => name),
    extraKeys: unknown.map(([, name]) => `${JSON.stringify(name)}:`),
  };
}

export function mapOrderHeader(header: string[]): HeaderMap<OrderField> {
  const map = mapHeader(header, ORDER_HEADERS);
  if (map.index.orderNo === undefined) throw new RowError('the order report has no 订单编号 column');
  if (map.index.status === undefined) throw new RowError('the order report has no 订单状态 column');
  return map;
}

export function mapItemHeader(header: string[]): HeaderMap<ItemField> {
  const map = mapHeader(header, ITEM_HEADERS);
  if (map.index.orderNo === undefined) throw new RowError('the item report has no 订单编号 column');
  return map;
}

/** Cell text without Excel's `="…"` wrapper, a leading `'` on numbers, or surrounding blanks. */
export function cleanCell(v: string | undefined): string {
  if (v === undefined || v === '') return '';
  let s = v;
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  // Fast path: most cells have no blanks, wrapper or quote mark to strip.
  if (first <= 32 || last <= 32 || first === 0x3000 || last === 0x3000) s = s.trim();
  if (s.charCodeAt(0) === 61 && s.startsWith('="') && s.endsWith('"') && s.length >= 3) s = s.slice(2, -1).trim();
  else if (s.charCodeAt(0) === 39 && /^'[\d\s*+-]+$/.test(s)) s = s.slice(1).trim();
  return s;
}

const MONEY = /^(\d{1,12})(?:\.(\d{1,2})\d*)?$/;

/** Yuan text (¥1,234.50) → integer fen, by string arithmetic so no float rounding creeps in. */
export function yuanToFen(raw: string, column: string): number {
  if (raw === '') return 0;
  let m = MONEY.exec(raw);
  if (!m) {
    const s = raw.replace(/[¥￥,\s]/g, '');
    if (s === '') return 0;
    m = MONEY.exec(s);
  }
  if (!m) throw new RowError(`${column} "${raw.slice(0, 20)}" is not an amount`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

const TIME = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

const digit = (s: string, i: number) => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
};

/** `2026-10-01 10:00:30`, the seller center's own form, read without a regular expression; null for any other form. */
function fullTime(raw: string): string | null {
  if (raw.charCodeAt(4) !== 45 || raw.charCodeAt(7) !== 45 || raw.charCodeAt(10) !== 32 || raw.charCodeAt(13) !== 58 || raw.charCodeAt(16) !== 58) return null;
  const year = digit(raw, 0) * 1000 + digit(raw, 1) * 100 + digit(raw, 2) * 10 + digit(raw, 3);
  const month = digit(raw, 5) * 10 + digit(raw, 6);
  const day = digit(raw, 8) * 10 + digit(raw, 9);
  const hour = digit(raw, 11) * 10 + digit(raw, 12);
  const minute = digit(raw, 14) * 10 + digit(raw, 15);
  const second = digit(raw, 17) * 10 + digit(raw, 18);
  // NaN (a non-digit) fails every comparison, so such text falls through to the general reader and its error.
  if (!(year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 59)) return null;
  return `${raw.slice(0, 10)}T${raw.slice(11)}+08:00`;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Seller-center local time (Asia/Shanghai) → ISO 8601 with +08:00; empty → null. Every date PostgreSQL would refuse
 * (31 February, 10:75) is refused here, as this row's error, not as a failure of the whole file's COPY.
 */
export function shanghaiTime(raw: string, column: string): string | null {
  if (raw === '' || raw === 'null') return null;
  if (raw.length === 19) {
    const fast = fullTime(raw);
    if (fast !== null) return fast;
  }
  const m = TIME.exec(raw);
  if (!m) throw new RowError(`${column} "${raw.slice(0, 25)}" is not a date`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] ?? '00';
  const second = m[6] ?? '00';
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > '59' || second > '59') {
    throw new RowError(`${column} "${raw}" is not a date`);
  }
  return `${m[1]}-${two(month)}-${two(day)}T${two(hour)}:${minute}:${second}+08:00`;
}

/** 订单状态 text → state; closed orders are no purchase. */
export function orderState(status: string): OrderState {
  if (status.includes('交易成功')) return 'completed';
  if (status.includes('关闭')) return 'closed';
  if (status.includes('已发货') || status.includes('部分发货')) return 'shipped';
  if (status.includes('已付款') || status.includes('等待卖家发货')) return 'paid';
  if (status.includes('等待买家付款') || status.includes('未付款')) return 'pending';
  throw new RowError(`unknown 订单状态 "${status.slice(0, 30)}"`);
}

const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

/** A cell as a JSON string, built by hand: this runs for every cell of million-row files. */
function jsonString(v: string): string {
  return NEEDS_JSON_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
}

/**
 * Unknown columns as a JSON array of their values (null for an empty cell, trailing ones left out): the names are
 * the same for every row of a file, so the import keeps them once.
 */
function unknownValues(fields: string[], map: HeaderMap<string>): string {
  const { extraColumns } = map;
  let out = '';
  let nulls = '';
  for (let k = 0; k < extraColumns.length; k++) {
    const raw = fields[extraColumns[k]!];
    const v = raw === undefined || raw === '' ? '' : cleanCell(raw);
    if (v === '') {
      nulls += k === 0 ? 'null' : ',null';
      continue;
    }
    out += nulls + (k === 0 ? '' : ',') + jsonString(v);
    nulls = '';
  }
  return `[${out}]`;
}

/** Unknown columns of an item row as a JSON object text (merged into the order's item list). */
function unknownColumns(fields: string[], map: HeaderMap<string>): string {
  const { extraColumns, extraKeys } = map;
  let out = '';
  for (let k = 0; k < extraColumns.length; k++) {
    const raw = fields[extraColumns[k]!];
    if (raw === undefined || raw === '') continue;
    const v = cleanCell(raw);
    if (v === '') continue;
    out += (out ? ',' : '') + extraKeys[k] + jsonString(v);
  }
  return `{${out}}`;
}

/** The cleaned cell of a mapped column ('' when the file has no such column). No closure per row: this is the hot loop. */
function cellAt(fields: string[], i: number | undefined): string {
  return i === undefined ? '' : cleanCell(fields[i]);
}

const ORDER_NO = /^\d{6,25}$/;

export function toStagedOrder(line: number, fields: string[], map: HeaderMap<OrderField>, phoneKey: string): StagedOrder {
  const ix = map.index;
  const orderNo = cellAt(fields, ix.orderNo);
  if (!ORDER_NO.test(orderNo)) throw new RowError(orderNo === '' ? '订单编号 is empty' : `订单编号 "${orderNo.slice(0, 30)}" is not an order number`);
  const statusText = cellAt(fields, ix.status);
  const state = orderState(statusText);
  const phoneRaw = cellAt(fields, ix.phone);
  const fullPhone = phoneRaw.includes('*') ? null : normalizePhone(phoneRaw);
  const last4 = /(\d{4})$/.exec(phoneRaw)?.[1] ?? null;
  const masked = fullPhone ? `${fullPhone.slice(0, 3)}****${fullPhone.slice(7)}` : phoneRaw || null;
  const hash = fullPhone ? phoneHash(phoneKey, fullPhone) : null;
  const nick = cellAt(fields, ix.buyerNick) || null;
  const receiverName = cellAt(fields, ix.receiverName) || null;
  // One Taobao buyer across orders: the nick when Taobao shows it whole, else the full phone, else the masked triple.
  const buyer = nick && !nick.includes('*') ? `n:${nick}` : hash ? `p:${hash}` : `m:${nick ?? ''}|${masked ?? ''}|${receiverName ?? ''}`;
  const count = cellAt(fields, ix.count);
  if (count !== '' && !/^\d{1,6}$/.test(count)) throw new RowError(`宝贝总数量 "${count.slice(0, 12)}" is not a number`);
  const totalFen = yuanToFen(cellAt(fields, ix.total), '总金额');
  const paidFen = yuanToFen(cellAt(fields, ix.paid), '买家实际支付金额');
  return {
    line,
    orderNo,
    storeName: cellAt(fields, ix.store) || null,
    buyerNick: nick,
    buyerKey: digest('md5', buyer, 'hex'),
    state,
    statusText,
    totalFen,
    paidFen,
    postageFen: yuanToFen(cellAt(fields, ix.postage), '买家应付邮费'),
    refundFen: yuanToFen(cellAt(fields, ix.refund), '退款金额'),
    orderedAt: shanghaiTime(cellAt(fields, ix.createdAt), '订单创建时间'),
    paidAt: shanghaiTime(cellAt(fields, ix.paidAt), '订单付款时间'),
    itemTitle: cellAt(fields, ix.title) || null,
    itemCount: count === '' ? null : Number(count),
    closeReason: cellAt(fields, ix.closeReason) || null,
    buyerMessage: cellAt(fields, ix.message) || null,
    receiverName,
    receiverAddress: cellAt(fields, ix.address) || null,
    receiverPhone: masked,
    phoneLast4: last4,
    phoneHash: hash,
    extra: unknownValues(fields, map),
  };
}

export function toStagedItem(line: number, fields: string[], map: HeaderMap<ItemField>): StagedItem {
  const ix = map.index;
  const orderNo = cellAt(fields, ix.orderNo);
  if (!ORDER_NO.test(orderNo)) throw new RowError(orderNo === '' ? '订单编号 is empty' : `订单编号 "${orderNo.slice(0, 30)}" is not an order number`);
  const qty = cellAt(fields, ix.quantity);
  if (qty !== '' && !/^\d{1,6}$/.test(qty)) throw new RowError(`购买数量 "${qty.slice(0, 12)}" is not a number`);
  const price = cellAt(fields, ix.price);
  return {
    line,
    orderNo,
    title: cellAt(fields, ix.title) || null,
    priceFen: price === '' ? null : yuanToFen(price, '价格'),
    quantity: qty === '' ? null : Number(qty),
    sku: cellAt(fields, ix.sku) || null,
    props: cellAt(fields, ix.props) || null,
    extra: unknownColumns(fields, map),
  };
}
