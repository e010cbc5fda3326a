import { defineModule } from '../module';
import { parseExpiryRule } from './points-expiry';
import { pointsPrivacy } from './points.privacy';
import { PointsService, type LedgerMembers } from './points.service';

declare module '../module' {
  interface Services {
    points: PointsService;
  }
}

/**
 * The append-only points ledger. Other modules credit and debit through PointsService, or, in one statement of a hot
 * path, through its SQL function points_credit (its published API); no other module names its tables.
 */
export const pointsModule = defineModule({
  name: 'points',
  tables: ['points_account', 'points_transaction', 'points_entry', 'points_lot'],
  // The member ledger is wired after the ledger: asked at call time.
  needs: ({ services }): LedgerMembers => ({
    statusOf: (ctx, id) => services.members.statusOf(ctx, id),
    mergedInto: (ctx, id) => services.members.mergedInto(ctx, id),
  }),
  services: ({ infra, config, ports }) => ({ points: new PointsService(infra.db, ports, parseExpiryRule(config.pointsExpiry)) }),
  privacy: ({ services }) => [pointsPrivacy(services.points)],
});
