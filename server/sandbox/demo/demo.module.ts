import { systemCtx } from '../../infra/db';
import { defineModule } from '../../modules/module';
import { DemoSeedService } from './demo-seed.service';

declare module '../../modules/module' {
  interface Services {
    /** The sandbox's demo shop, seeded once on the first start (DEMO_SEED). */
    demo: DemoSeedService;
  }
}

/** The sandbox's demo shop: seeded through the other modules' services, never by their tables. Last in the list. */
export const demoModule = defineModule({
  name: 'demo',
  tables: ['demo_seed'],
  services: ({ infra, config, log, announce, services: s }) => ({
    demo: new DemoSeedService(
      infra.db,
      { staff: s.staff, taobaoImport: s.taobaoImport, parcels: s.parcels, reviewRewards: s.reviewRewards, catalog: s.catalog, mall: s.mall, giftBox: s.giftBox, salesOrders: s.memberQuery },
      { enabled: config.demoSeed, hasConfiguredOwner: config.admin !== undefined, brand: config.brandName, publicUrl: config.publicUrl, announce },
      log.child({ module: 'demo' }),
    ),
  }),
  // After listening: the demo's QR code is asked of the sandbox over HTTP, like every call to WeChat.
  onListen: async ({ services }) => services.demo.start(systemCtx),
});
