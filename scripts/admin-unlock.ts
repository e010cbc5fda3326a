import { parseArgs } from 'node:util';
import { Db, systemCtx } from '../server/infra/db';
import { MemoryKv } from '../server/infra/kv';
import { StaffService } from '../server/modules/staff/staff.service';
import { openCliDatabase, runCli } from './cli';

/**
 * npm run admin:unlock -- --username alice   clears the account's failed-login counters on every address (the
 * account's login epoch moves on, so the counters start afresh whichever store the server keeps them in).
 */
runCli(async () => {
  const { values } = parseArgs({ options: { username: { type: 'string' } } });
  if (!values.username) throw new Error('Give --username');
  const db = await openCliDatabase();
  const kv = new MemoryKv();
  try {
    const staff = new StaffService(new Db(db.dataSource), kv, db.config.adminSessionHours);
    if (!(await staff.unlock(systemCtx, values.username))) throw new Error(`No staff account "${values.username.toLowerCase()}"`);
    process.stdout.write(`Unlocked "${values.username.toLowerCase()}": its failed logins are forgotten on every address\n`);
  } finally {
    await kv.close();
    await db.close();
  }
});
