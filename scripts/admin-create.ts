import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Db, systemCtx } from '../server/infra/db';
import { MemoryKv } from '../server/infra/kv';
import { STAFF_ROLES, type StaffRole } from '../server/modules/staff/staff.entity';
import { StaffService } from '../server/modules/staff/staff.service';
import { openCliDatabase, runCli } from './cli';

/**
 * npm run admin:create -- --username alice --role operator   (password from --password, ADMIN_NEW_PASSWORD,
 * or generated and printed once). Without flags it creates the owner from ADMIN_USERNAME / ADMIN_PASSWORD.
 */
runCli(async () => {
  const { values } = parseArgs({
    options: { username: { type: 'string' }, role: { type: 'string', default: 'owner' }, password: { type: 'string' } },
  });
  const role = values.role as StaffRole;
  if (!STAFF_ROLES.includes(role)) throw new Error(`--role must be one of ${STAFF_ROLES.join(', ')}`);
  const db = await openCliDatabase();
  const kv = new MemoryKv();
  try {
    const staff = new StaffService(new Db(db.dataSource), kv, db.config.adminSessionHours);
    const username = values.username ?? db.config.admin?.username;
    if (!username) throw new Error('Give --username, or set ADMIN_USERNAME and ADMIN_PASSWORD');
    let password = values.password ?? process.env.ADMIN_NEW_PASSWORD ?? (values.username ? undefined : db.config.admin?.password);
    let generated = false;
    if (!password) {
      password = randomBytes(12).toString('base64url');
      generated = true;
    }
    if (password.length < 10) throw new Error('The password must be at least 10 characters');
    const created = await staff.createAccount(systemCtx, { username, password, role });
    process.stdout.write(`Created ${created.role} "${created.username}"${generated ? ` with password ${password} (shown once)` : ''}\n`);
  } finally {
    await kv.close();
    await db.close();
  }
});
