import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import iconv from 'iconv-lite';
import pino from 'pino';
import { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { loadConfig } from '../../server/config';
import { connectAndMigrate, createDataSource, Db } from '../../server/infra/db';
import { MemoryKv } from '../../server/infra/kv';
import { JobQueue } from '../../server/infra/queue';
import { entities } from '../../server/modules';
import { migrations } from '../../migrations';
import { createMemberServices } from '../../server/modules/members/member-services';
import { ORDER_COLUMNS } from '../../server/modules/taobao/taobao-merge.sql';

const HEADER = [
  '订单编号', '买家会员名', '买家支付宝账号', '支付单号', '支付详情', '买家应付货款', '买家应付邮费', '买家支付积分', '总金额', '返点积分',
  '买家实际支付金额', '买家实际支付积分', '订单状态', '买家留言', '收货人姓名', '收货地址', '运送方式', '联系电话', '联系手机',
  '订单创建时间', '订单付款时间', '宝贝标题', '宝贝种类', '物流单号', '物流公司', '订单备注', '宝贝总数量', '店铺Id', '店铺名称',
  '订单关闭原因', '卖家服务费', '买家服务费', '发票抬头', '是否手机订单', '分阶段订单信息', '特权订金订单id', '是否上传合同照片',
  '是否上传小票', '是否代付', '定金排名', '修改后的sku', '修改后的收货地址', '异常信息', '天猫卡券抵扣', '集分宝抵扣', '是否是O2O交易',
  '退款金额', '预约门店',
];
const STATUSES = ['交易成功', '交易成功', '交易成功', '卖家已发货，等待买家确认', '买家已付款，等待卖家发货', '交易关闭', '等待买家付款'];
const CITIES = ['浙江省 杭州市 西湖区', '上海市 上海市 浦东新区', '广东省 深圳市 南山区', '北京市 北京市 朝阳区', '四川省 成都市 武侯区'];

/** Writes an n-order seller-center export (GBK, CRLF, formula cells, some multi-line messages) to a temp file. */
export async function generate(file: string, n: number): Promise<void> {
  const out = fs.createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(iconv.encode(s, 'gbk'))) await once(out, 'drain');
  };
  await write(HEADER.join(',') + '\r\n');
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const no = (2036455525271594000n + BigInt(i) * 7n).toString();
    const buyer = i % 400_000;
    const yuan = 10 + (i % 997);
    const status = STATUSES[i % STATUSES.length]!;
    const day = String(1 + (i % 28)).padStart(2, '0');
    const msg = i % 50 === 0 ? '"请发顺丰,谢谢\r\n周末不在家"' : i % 7 === 0 ? '尽快发货' : '';
    const cells = [
      `="${no}"`, `t**${buyer % 10}`, 'a***@163.com', `="${no.slice(0, 16)}"`, '', `${yuan}.00`, '0.00', '0', `${yuan}.00`, '0',
      status === '等待买家付款' || status === '交易关闭' ? '0.00' : `${yuan}.00`, '0', status, msg, `张*`,
      `${CITIES[i % CITIES.length]} 文三路${i % 300}号 310000`, '快递', '', `'1${30 + (buyer % 60)}****${String(buyer % 10000).padStart(4, '0')}`,
      `2026-10-${day} 10:${String(i % 60).padStart(2, '0')}:00`, status === '等待买家付款' ? '' : `2026-10-${day} 10:${String(i % 60).padStart(2, '0')}:30`,
      '雪球 保温杯 500ml', '1', `'7730${String(i).padStart(11, '0')}`, '中通快递', '', String(1 + (i % 3)), '12345678', '雪球旗舰店',
      status === '交易关闭' ? '买家不想买了' : '订单未关闭', '0', '0', '', '手机订单', '', '', '否', '否', '否', '', '', '', '', '0', '0', '否',
      i % 40 === 0 ? '20.00' : '0.00', '',
    ];
    chunk += cells.join(',') + '\r\n';
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'finish');
}

/** npm run bench -- import: one-million-order export imported against DATABASE_URL, beside a raw COPY of the same file. */
export async function taobaoImportBench(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    process.stdout.write(`${JSON.stringify({ bench: 'import', skipped: 'DATABASE_URL is not set: the import benchmark measures PostgreSQL (COPY), not the embedded database' })}\n`);
    return;
  }
  const rows = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-bench-'));
  const file = path.join(dir, 'ExportOrderList.csv');
  const dbName = `snowball_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(base);
  url.pathname = `/${dbName}`;
  const dataSource = createDataSource({ url: url.toString(), poolSize: 4, entities, migrations, applicationName: 'snowball-bench' });
  const queue = new JobQueue(url.toString(), pino({ level: 'silent' }), { workers: false, max: 1 });
  try {
    let t0 = Date.now();
    await generate(file, rows);
    const bytes = fs.statSync(file).size;
    const generateSeconds = (Date.now() - t0) / 1000;

    await connectAndMigrate(dataSource, url.toString());
    await queue.start();
    const config = loadConfig({ DATABASE_URL: url.toString(), LOG_LEVEL: 'silent' });
    const services = createMemberServices(new Db(dataSource), new MemoryKv(), queue, { ...config, importKeepFiles: true });

    // Raw COPY of the same file, PostgreSQL parsing the CSV into 48 text columns with no checks, index or merge: into
    // an ordinary table (written to the WAL, as orders must be), the peer of the goal, and into an unlogged one (no WAL,
    // lost in a crash: a rate no durable import can reach), printed beside it.
    const raw = new Client({ connectionString: url.toString() });
    await raw.connect();
    const rawCopy = async (kind: 'TABLE' | 'UNLOGGED TABLE') => {
      await raw.query(`CREATE ${kind} raw_copy (${HEADER.map((_, i) => `c${i} text`).join(', ')})`);
      const start = Date.now();
      await pipeline(fs.createReadStream(file), raw.query(copyFrom("COPY raw_copy FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'GBK')")));
      const seconds = (Date.now() - start) / 1000;
      await raw.query('DROP TABLE raw_copy');
      await raw.query('CHECKPOINT');
      return seconds;
    };
    const copySeconds = await rawCopy('TABLE');
    const unloggedSeconds = await rawCopy('UNLOGGED TABLE');
    await raw.end();

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const rssBefore = process.memoryUsage().rss;
    /** One import of the file, timed as a whole and by phase. */
    const timedImport = async () => {
      const start = Date.now();
      const phases: Record<string, number> = {};
      let phase = '';
      let phaseStart = start;
      const id = await services.taobaoImport.create({}, { source: 'cli', channelKind: 'tmall', ordersFile: file });
      const summary = await services.taobaoImport.run({}, id, (p) => {
        if (p.phase === phase) return;
        if (phase) phases[phase] = (Date.now() - phaseStart) / 1000;
        phase = p.phase;
        phaseStart = Date.now();
      });
      return { seconds: (Date.now() - start) / 1000, phases, summary };
    };
    const { seconds: importSeconds, phases, summary: first } = await timedImport();
    const { seconds: reimportSeconds, phases: rephases, summary: again } = await timedImport();
    clearInterval(sampler);

    // The database's own floor for these rows: the orders just imported, copied out and straight back into an empty
    // table shaped like sales_order (its indexes and checks), no parsing, probing or merging.
    const floor = new Client({ connectionString: url.toString() });
    await floor.connect();
    const dump = path.join(dir, 'orders.copy');
    const columns = `${ORDER_COLUMNS}, import_id`;
    await pipeline(floor.query(copyTo(`COPY sales_order (${columns}) TO STDOUT`)), fs.createWriteStream(dump));
    await floor.query('CREATE TABLE floor_copy (LIKE sales_order INCLUDING ALL)');
    await floor.query('CHECKPOINT');
    t0 = Date.now();
    await pipeline(fs.createReadStream(dump), floor.query(copyFrom(`COPY floor_copy (${columns}) FROM STDIN`)));
    const floorSeconds = (Date.now() - t0) / 1000;
    await floor.query('DROP TABLE floor_copy');
    await floor.end();

    const importRate = Math.round(rows / importSeconds);
    const copyRate = Math.round(rows / copySeconds);
    const unloggedRate = Math.round(rows / unloggedSeconds);
    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'import',
          rows,
          fileMB: Math.round(bytes / 1048576),
          generateSeconds,
          import: { seconds: importSeconds, rowsPerSec: importRate, phaseSeconds: phases, summary: first },
          reimport: { seconds: reimportSeconds, rowsPerSec: Math.round(rows / reimportSeconds), phaseSeconds: rephases, inserted: again.inserted, updated: again.updated, unchanged: again.unchanged },
          rawCopy: { seconds: copySeconds, rowsPerSec: copyRate },
          importVsRawCopy: Math.round((importRate / copyRate) * 100) / 100,
          goal: '>= 0.33 of a raw COPY of the file into an ordinary table',
          rawCopyUnlogged: { seconds: unloggedSeconds, rowsPerSec: unloggedRate },
          importVsRawCopyUnlogged: Math.round((importRate / unloggedRate) * 100) / 100,
          preparedRowsIntoOrderTable: { seconds: floorSeconds, rowsPerSec: Math.round(rows / floorSeconds) },
          peakRssMB: Math.round(peakRss / 1048576),
          rssBeforeImportMB: Math.round(rssBefore / 1048576),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await queue.stop().catch(() => undefined);
    if (dataSource.isInitialized) await dataSource.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
