import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Ctx, Db } from '../../infra/db';
import type { StaffService } from '../../modules/staff/staff.service';
import type { TaobaoImportService } from '../../modules/taobao/taobao-import.service';
import type { ParcelsService } from '../../modules/parcels/parcels.service';
import type { ReviewRewardsService } from '../../modules/review-rewards/review-rewards.service';
import type { CatalogService } from '../../modules/store/catalog.service';
import type { MallService } from '../../modules/store/mall.service';
import type { MemberQueryService } from '../../modules/members/member-query.service';
import type { GiftBoxService } from '../../modules/gift-box/gift-box.service';
import type { SandboxDemo } from '../sandbox-demo';
import { generateDemoExport, type DemoOrder } from './demo-export';
import { defaultOfferText } from '../../modules/parcels/insert-cards';

export const DEMO_ORDER_COUNT = 300;
export const DEMO_HINT_COUNT = 5;
export const DEMO_OWNER_USERNAME = 'demo';
const REWARD_FEN = 500;
const CAMPAIGN_DAYS = 30;
/** A seeding start older than this was a crash mid-way: the next start may take over. */
const STALE_SEEDING_MINUTES = 10;

export interface DemoDeps {
  staff: StaffService;
  taobaoImport: TaobaoImportService;
  parcels: ParcelsService;
  reviewRewards: ReviewRewardsService;
  catalog: CatalogService;
  mall: MallService;
  giftBox: Pick<GiftBoxService, 'createCampaign'>;
  /** The member ledger's orders (the demo's hint orders and whether each is bound yet). */
  salesOrders: Pick<MemberQueryService, 'byNumbers'>;
}

export interface DemoOptions {
  /** Sandbox mode with DEMO_SEED on. */
  enabled: boolean;
  /** ADMIN_USERNAME is set: no demo owner then. */
  hasConfiguredOwner: boolean;
  brand: string;
  publicUrl: string;
  /** Prints the demo login as plain lines beside the log (the terminal of `npm start`), then not in the log; absent → the log only. */
  announce?: (lines: string[]) => void;
}

export type DemoSeedOutcome = 'seeded' | 'already_seeded' | 'off' | 'failed';

interface SeedRow {
  status: 'seeding' | 'done';
  batch_id: string | null;
  campaign_id: string | null;
  owner_username: string | null;
  hint_orders: string[];
}

/**
 * The demo shop of sandbox mode, seeded once through the real services: a generated seller-center export through
 * the importer, a parcel batch with its QR code, a review-reward campaign, store products and points-mall items.
 */
export class DemoSeedService {
  private run: Promise<DemoSeedOutcome> = Promise.resolve('off');

  constructor(
    private readonly db: Db,
    private readonly deps: DemoDeps,
    private readonly opts: DemoOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Starts seeding in the background (the QR code is asked of the sandbox over HTTP, so the server must listen). */
  start(ctx: Ctx): void {
    this.run = this.seedOnce(ctx).catch((err: Error) => {
      this.log.error({ err }, 'demo shop: seeding failed; it is tried again at the next start');
      return 'failed' as const;
    });
  }

  /** The outcome of the last start (tests and the process wait on it). */
  settled(): Promise<DemoSeedOutcome> {
    return this.run;
  }

  async seedOnce(ctx: Ctx): Promise<DemoSeedOutcome> {
    if (!this.opts.enabled) return 'off';
    // The primary key (id = 1) decides who seeds: a second start, or a second instance, finds the row and stops.
    const claimed = (await this.db.rows(ctx, `INSERT INTO demo_seed (id, status) VALUES (1, 'seeding')
       ON CONFLICT (id) DO UPDATE SET started_at = now()
        WHERE demo_seed.status = 'seeding' AND demo_seed.started_at < now() - make_interval(mins => $1)
       RETURNING id`,
      [STALE_SEEDING_MINUTES],
    )) as unknown[];
    if (claimed.length === 0) return 'already_seeded';
    try {
      await this.seed(ctx);
      return 'seeded';
    } catch (err) {
      await this.db.rows(ctx, "DELETE FROM demo_seed WHERE id = 1 AND status = 'seeding'");
      throw err;
    }
  }

  private async seed(ctx: Ctx): Promise<void> {
    const now = new Date();
    const owner = await this.demoOwner(ctx);

    // The importer is idempotent and the batch undoes itself if WeChat refuses: the steps that can fail go first.
    const storeName = `${this.opts.brand}旗舰店`;
    const exp = generateDemoExport({ count: DEMO_ORDER_COUNT, now, seed: randomInt(2 ** 31), storeName });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snowball-demo-'));
    let importId: string;
    try {
      const file = path.join(dir, 'ExportOrderList.csv');
      fs.writeFileSync(file, exp.bytes);
      const imp = this.deps.taobaoImport;
      importId = await imp.create(ctx, { source: 'cli', channelKind: 'taobao', storeName, ordersFile: file, fileNames: { orders: 'ExportOrderList.csv' }, createdBy: 'demo-seed' });
      await imp.run(ctx, importId);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }

    const batch = await this.deps.parcels.createBatch(ctx, {
      name: '演示包裹卡 · 第一批',
      quantityPrinted: 1000,
      printingCostFen: 30_000,
      insertText: defaultOfferText(`${REWARD_FEN / 100} 元现金`),
    });
    const campaign = await this.deps.reviewRewards.createCampaign(ctx, {
      name: '晒单评价有礼（演示）',
      rewardKind: 'cash',
      amountFen: REWARD_FEN,
      startsAt: now,
      endsAt: new Date(now.getTime() + CAMPAIGN_DAYS * 86_400_000),
    });
    await this.seedStore(ctx);
    // A running gift box (拆礼盒): nine friends, a certain reward, the end time stated.
    await this.deps.giftBox.createCampaign(
      ctx,
      {
        name: '九人拆礼盒（演示）',
        rules: '1. 发起礼盒，分享给微信好友；2. 9 位好友登录小程序后点「帮TA拆」；3. 拆开即得 100 积分。每位好友每次活动可帮拆 1 次；活动结束时未拆开的礼盒失效。',
        helpsRequired: 9,
        reward: { kind: 'points', points: 100 },
        stock: null,
        startsAt: now.toISOString(),
        endsAt: new Date(now.getTime() + CAMPAIGN_DAYS * 86_400_000).toISOString(),
        boxesPerMember: 1,
        helpsPerHelper: 1,
        newMembersOnly: false,
      },
      'demo-seed',
    );

    const hints = pickHints(exp.orders);
    await this.db.rows(ctx, `UPDATE demo_seed SET status = 'done', finished_at = now(), import_id = $1, batch_id = $2, campaign_id = $3, owner_username = $4, hint_orders = $5
        WHERE id = 1`,
      [importId, batch.id, campaign.id, owner, hints.map((o) => o.orderNo)],
    );
    const first = hints[0]!;
    this.log.info(
      { orders: exp.orders.length, batch: batch.name, campaign: campaign.name },
      `Sandbox demo shop seeded. Try it: open ${this.opts.publicUrl}/sandbox, create a person, scan "${batch.name}", send order number ${first.orderNo}, then ${first.buyer.phoneLast4}`,
    );
  }

  /** Sandbox mode without ADMIN_USERNAME: an owner to look at the merchant side with, its password shown once. */
  private async demoOwner(ctx: Ctx): Promise<string | null> {
    if (this.opts.hasConfiguredOwner) return null;
    const password = randomBytes(12).toString('base64url');
    const outcome = await this.deps.staff.ensureOwner(ctx, { username: DEMO_OWNER_USERNAME, password });
    if (outcome === 'created') {
      // The password goes to the person at the terminal when there is one (main.ts boxes it on stderr), never also
      // into the log, which is collected and kept; only a process with no terminal to tell has the log say it.
      this.log.warn(
        { username: DEMO_OWNER_USERNAME },
        this.opts.announce
          ? `SANDBOX ONLY - demo owner ${DEMO_OWNER_USERNAME} created; its password is shown once in the boxed block on stderr. Never used in production.`
          : `SANDBOX ONLY - demo owner login: ${DEMO_OWNER_USERNAME} / ${password} (shown once; POST /api/admin/login, then /docs). Never used in production.`,
      );
      this.opts.announce?.([
        'SANDBOX ONLY — demo shop owner (shown once, never in production)',
        `  username: ${DEMO_OWNER_USERNAME}`,
        `  password: ${password}`,
        `  sandbox:  ${this.opts.publicUrl}/sandbox    merchant API: ${this.opts.publicUrl}/docs`,
      ]);
    }
    return DEMO_OWNER_USERNAME;
  }

  private async seedStore(ctx: Ctx): Promise<void> {
    const { catalog, mall } = this.deps;
    await catalog.createProduct(ctx, {
      title: '雪球 316不锈钢保温杯 500ml',
      description: '24 小时保温，一键开盖。',
      sort: 1,
      skus: [
        { name: '白色', priceFen: 12_900, stock: 120 },
        { name: '黑色', priceFen: 12_900, stock: 80 },
        { name: '樱花粉', priceFen: 13_900, stock: 40 },
      ],
    });
    await catalog.createProduct(ctx, {
      title: '雪球 焖烧罐 1L',
      description: '早上放料，中午开罐即食。',
      sort: 2,
      skus: [
        { name: '奶白', priceFen: 19_900, stock: 50 },
        { name: '雾蓝', priceFen: 19_900, stock: 30 },
      ],
    });
    await catalog.createProduct(ctx, {
      title: '雪球 杯刷清洁套装 3件',
      sort: 3,
      skus: [{ name: '标准装', priceFen: 2_900, stock: 500 }],
    });
    await mall.createItem(ctx, { kind: 'coupon', name: '满99减10元券', pointsCost: 100, stock: 1000, perMemberLimit: 3, couponValueFen: 1_000, couponMinSpendFen: 9_900, couponValidDays: 30, sort: 1 });
    await mall.createItem(ctx, { kind: 'shipping_card', name: '包邮月卡', pointsCost: 300, stock: 200, perMemberLimit: 1, shippingCardPeriod: 'monthly', sort: 2 });
    await mall.createItem(ctx, { kind: 'gift', name: '雪球帆布袋', description: '随下一单寄出。', pointsCost: 500, stock: 100, perMemberLimit: 1, sort: 3 });
  }

  /** What the sandbox page shows: the batch to scan and the hint orders, unbound first. Null before seeding finished. */
  async view(ctx: Ctx): Promise<SandboxDemo | null> {
    if (!this.opts.enabled) return null;
    const [row] = (await this.db.rows(ctx, 'SELECT status, batch_id, campaign_id, owner_username, hint_orders FROM demo_seed WHERE id = 1')) as SeedRow[];
    if (!row || row.status !== 'done' || !row.batch_id) return null;
    const batch = await this.deps.parcels.getBatch(ctx, row.batch_id);
    if (!batch.qrTicket) return null;
    const orders = await this.deps.salesOrders.byNumbers(ctx, row.hint_orders);
    return {
      brand: this.opts.brand,
      batch: { id: batch.id, name: batch.name, scene: batch.scene, ticket: batch.qrTicket },
      orders,
      rewardFen: REWARD_FEN,
      ownerUsername: row.owner_username,
    };
  }
}

/** Completed orders (the reward needs 交易成功) of distinct buyers, newest first. */
function pickHints(orders: DemoOrder[]): DemoOrder[] {
  const seen = new Set<string>();
  const hints: DemoOrder[] = [];
  for (const o of orders) {
    if (o.status !== '交易成功' || seen.has(o.buyer.phoneLast4)) continue;
    seen.add(o.buyer.phoneLast4);
    hints.push(o);
    if (hints.length === DEMO_HINT_COUNT) break;
  }
  return hints;
}
