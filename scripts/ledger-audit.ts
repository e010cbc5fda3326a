import { openCliDatabase, runCli } from './cli';
import { Db } from '../server/infra/db';
import { auditLedger } from '../server/modules/points/points-audit';
import { ordersWithoutChannel } from '../server/modules/members/orders-audit';

/**
 * npm run ledger:audit: rebuilds every points balance from the entries, and looks for orders whose sales channel is
 * missing; prints each difference and exits 1 if any.
 */
runCli(async () => {
  const db = await openCliDatabase();
  let failed = false;
  try {
    const audit = await auditLedger(new Db(db.dataSource));
    for (const d of audit.differences) {
      const who = d.memberId ? ` member ${d.memberId}` : d.transactionId ? ` transaction ${d.transactionId}` : '';
      process.stdout.write(`DIFFERENCE ${d.kind}${who}: expected ${d.expected}, found ${d.actual}\n`);
    }
    process.stdout.write(
      `Audited ${audit.accounts} member accounts, ${audit.transactions} transactions, ${audit.entries} entries: ` +
        `${audit.differences.length ? `${audit.differences.length} difference(s)` : 'no differences'}\n`,
    );
    const orphans = await ordersWithoutChannel(new Db(db.dataSource));
    for (const o of orphans.sample) process.stdout.write(`DIFFERENCE order_channel order ${o.id} (${o.orderNo}): its sales channel is missing\n`);
    process.stdout.write(`Orders without their sales channel: ${orphans.count}\n`);
    failed = audit.differences.length > 0 || orphans.count > 0;
  } finally {
    await db.close();
  }
  if (failed) process.exit(1);
});
