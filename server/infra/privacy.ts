import type { Ctx } from './db';

/**
 * What one table holds of a member. Every column of the database that holds a member id, an openid, a unionid, a
 * phone, an address or a name is listed by exactly the hooks that handle it: test/members/privacy-registry.test.ts
 * reads the database's own catalog and fails on a column no hook lists.
 */
export interface PrivacyTable {
  /** Columns holding a member id: the merge hook moves them to the survivor (unless keptOnMerge says why not). */
  readonly member?: readonly string[];
  /** Columns holding personal values (openids, names, phones, addresses, screenshots, messages): exported and erased. */
  readonly personal?: readonly string[];
  /** Where the table's rows are in the export: `<hook name>.<key>` (one entry per row of the member). */
  readonly exportedAs?: string;
  /** Why a merge leaves this table's rows under the merged member's id (an append-only ledger, an audit). */
  readonly keptOnMerge?: string;
}

/**
 * A module's part of the member's rights (PIPL export and erasure) and of a merge (the same person found twice).
 * Each runs inside the caller's transaction (`ctx`): an erasure or a merge reaches every module or none.
 */
export interface PrivacyHooks {
  /** The module's name: its export is under this key. */
  readonly name: string;
  /** The module's tables that hold a member's data. */
  readonly tables: Readonly<Record<string, PrivacyTable>>;
  /** The member's data in the module, as JSON (full values: this is the member's own copy). */
  export(ctx: Ctx, memberId: string): Promise<Record<string, unknown>>;
  /** Removes or anonymises every personal value; amounts, dates and counts stay. Answers what it changed. */
  erase(ctx: Ctx, memberId: string): Promise<Record<string, number> | void>;
  /** Moves `otherId`'s rows to `survivorId`, settling unique conflicts; answers what it moved. */
  merge(ctx: Ctx, survivorId: string, otherId: string): Promise<Record<string, number> | void>;
}

/** The one place privacy hooks are registered; the member ledger runs them for export, erasure and merge. */
export class PrivacyRegistry {
  private readonly list: PrivacyHooks[] = [];

  register(...hooks: PrivacyHooks[]): this {
    for (const h of hooks) {
      if (this.list.some((x) => x.name === h.name)) throw new Error(`privacy hooks "${h.name}" are registered twice`);
      this.list.push(h);
    }
    return this;
  }

  get hooks(): readonly PrivacyHooks[] {
    return this.list;
  }
}
