import type { Ctx, Db } from '../../infra/db';
import { conflict } from '../../infra/errors';
import type { PrivacyRegistry } from '../../infra/privacy';
import type { PointsService } from '../points/points.service';
import type { MembersService } from './members.service';

/**
 * Personal information law: a member's data exported as JSON, and erased on request, in every module that keeps
 * something of the member (the privacy hooks of the registry). Erasure removes identities and profile, anonymises
 * orders' personal fields and keeps amounts, dates and ledger rows under the now-anonymous member so totals and the
 * ledger audit still add up. Both are audited.
 */
export class MemberPrivacyService {
  constructor(
    private readonly db: Db,
    private readonly members: MembersService,
    private readonly points: PointsService,
    private readonly registry: PrivacyRegistry,
  ) {}

  /** The member ledger's part is the export's root; every other module's part is beside it under its name. */
  async exportData(ctx: Ctx, memberId: string, actor: string): Promise<Record<string, unknown>> {
    const id = await this.members.resolve(ctx, memberId);
    const data: Record<string, unknown> = { exportedAt: new Date().toISOString() };
    for (const h of this.registry.hooks) {
      const part = await h.export(ctx, id);
      if (h.name === 'members') Object.assign(data, part);
      else data[h.name] = part;
    }
    await this.members.audit(ctx, id, 'export', actor, {});
    return data;
  }

  async erase(ctx: Ctx, memberId: string, opts: { actor: string; reason: string }): Promise<{ memberId: string; ordersAnonymised: number; pointsForfeited: number }> {
    const id = await this.members.resolve(ctx, memberId);
    // Remaining points are forfeited first (a ledger transaction of its own), so the anonymous member holds none.
    const balance = await this.points.balance(ctx, id);
    if (balance > 0) {
      await this.points.adjust(ctx, { memberId: id, delta: -balance, idempotencyKey: `erase:${id}:forfeit`, reason: 'forfeited on erasure', actor: opts.actor });
    }
    return this.db.transaction(ctx, async (tx) => {
      const [row] = await this.db.rows<{ status: string }>(tx, 'SELECT status FROM member WHERE id = $1 FOR UPDATE', [id]);
      if (row?.status !== 'active') throw conflict('member_inactive', 'Member is not active');
      // Every module erases its part in this transaction: the member is erased everywhere or nowhere. The ledger's
      // own part goes last, so that the others can still ask it for the member's openids.
      const erased: Record<string, Record<string, number>> = {};
      for (const h of [...this.registry.hooks].reverse()) erased[h.name] = (await h.erase(tx, id)) ?? {};
      const ordersAnonymised = erased.members?.ordersAnonymised ?? 0;
      await this.members.audit(tx, id, 'erase', opts.actor, {
        reason: opts.reason,
        ordersAnonymised,
        pointsForfeited: balance,
        alsoErased: this.registry.hooks.map((h) => h.name),
        erased,
      });
      return { memberId: id, ordersAnonymised, pointsForfeited: balance };
    });
  }
}
