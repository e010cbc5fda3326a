import type { PrivacyHooks } from '../../infra/privacy';
import type { PointsService } from './points.service';

/**
 * The points ledger holds amounts only. It is append-only: a merge moves the balance and open lots by a merge
 * transaction of its own and leaves the merged member's past transactions where they are (history shows both).
 */
export function pointsPrivacy(points: PointsService): PrivacyHooks {
  const kept = 'the points ledger is append-only: the balance and open lots move by a merge transaction';
  return {
    name: 'points',
    tables: {
      points_account: { member: ['member_id'], exportedAs: 'points', keptOnMerge: kept },
      points_transaction: { member: ['member_id'], exportedAs: 'points.transactions', keptOnMerge: kept },
    },
    async export(ctx, id) {
      return { balance: await points.balance(ctx, id), transactions: await points.history(ctx, id, 10_000) };
    },
    // Amounts are not personal; the balance is forfeited before the erasure (a ledger transaction of its own).
    async erase() {},
    async merge(ctx, survivorId, otherId) {
      return { points: await points.transferAll(ctx, otherId, survivorId, `merged into ${survivorId}`) };
    },
  };
}
