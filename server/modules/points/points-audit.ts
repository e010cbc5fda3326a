import { systemCtx, type Db } from '../../infra/db';

export interface LedgerDifference {
  kind: 'balance' | 'lots' | 'unbalanced_transaction' | 'balance_after' | 'ledger_total';
  accountId?: string;
  memberId?: string;
  transactionId?: string;
  expected: number;
  actual: number;
}

export interface LedgerAudit {
  accounts: number;
  transactions: number;
  entries: number;
  differences: LedgerDifference[];
}

/**
 * Rebuilds every member balance from the entries and compares it with the cached balance and the open lots;
 * checks that each transaction and the whole ledger sum to zero.
 */
export async function auditLedger(db: Db): Promise<LedgerAudit> {
  const differences: LedgerDifference[] = [];
  const accounts = (await db.rows(systemCtx, `
    SELECT a.id, a.member_id, a.balance, coalesce(e.total, 0) AS entries, coalesce(l.total, 0) AS lots
      FROM points_account a
      LEFT JOIN (SELECT account_id, sum(amount) AS total FROM points_entry GROUP BY account_id) e ON e.account_id = a.id
      LEFT JOIN (SELECT account_id, sum(remaining) AS total FROM points_lot GROUP BY account_id) l ON l.account_id = a.id
     WHERE a.kind = 'member' AND (a.balance <> coalesce(e.total, 0) OR a.balance <> coalesce(l.total, 0))`)) as Array<{
    id: string;
    member_id: string;
    balance: string;
    entries: string;
    lots: string;
  }>;
  for (const a of accounts) {
    if (Number(a.balance) !== Number(a.entries)) {
      differences.push({ kind: 'balance', accountId: a.id, memberId: a.member_id, expected: Number(a.entries), actual: Number(a.balance) });
    }
    if (Number(a.entries) !== Number(a.lots)) {
      differences.push({ kind: 'lots', accountId: a.id, memberId: a.member_id, expected: Number(a.entries), actual: Number(a.lots) });
    }
  }
  const unbalanced = (await db.rows(systemCtx, `
    SELECT t.id, coalesce(sum(e.amount), 0) AS total, count(e.id) AS n FROM points_transaction t
      LEFT JOIN points_entry e ON e.transaction_id = t.id GROUP BY t.id HAVING coalesce(sum(e.amount), 0) <> 0 OR count(e.id) = 0`)) as Array<{
    id: string;
    total: string;
  }>;
  for (const u of unbalanced) differences.push({ kind: 'unbalanced_transaction', transactionId: u.id, expected: 0, actual: Number(u.total) });
  // Each transaction's recorded balance_after must equal the running sum of its member account's entries up to it.
  const drift = (await db.rows(systemCtx, `
    SELECT t.id, t.member_id, t.balance_after, r.running FROM points_transaction t
      JOIN (SELECT e.transaction_id, sum(e.amount) OVER (PARTITION BY e.account_id ORDER BY e.transaction_id) AS running
              FROM points_entry e JOIN points_account a ON a.id = e.account_id AND a.kind = 'member') r ON r.transaction_id = t.id
     WHERE t.balance_after <> r.running`)) as Array<{ id: string; member_id: string; balance_after: string; running: string }>;
  for (const d of drift) {
    differences.push({ kind: 'balance_after', transactionId: d.id, memberId: d.member_id, expected: Number(d.running), actual: Number(d.balance_after) });
  }
  const [totals] = (await db.rows(systemCtx, `
    SELECT (SELECT count(*) FROM points_account WHERE kind = 'member') AS accounts,
           (SELECT count(*) FROM points_transaction) AS transactions,
           (SELECT count(*) FROM points_entry) AS entries,
           (SELECT coalesce(sum(amount), 0) FROM points_entry) AS total`)) as Array<{ accounts: string; transactions: string; entries: string; total: string }>;
  if (Number(totals!.total) !== 0) differences.push({ kind: 'ledger_total', expected: 0, actual: Number(totals!.total) });
  return { accounts: Number(totals!.accounts), transactions: Number(totals!.transactions), entries: Number(totals!.entries), differences };
}
