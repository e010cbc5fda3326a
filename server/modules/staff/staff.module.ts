import { systemCtx } from '../../infra/db';
import { defineModule } from '../module';
import { StaffAccount, StaffSession } from './staff.entity';
import { staffRoutes } from './staff.routes';
import { StaffService } from './staff.service';

declare module '../module' {
  interface Services {
    staff: StaffService;
  }
}

/** The shop's staff: accounts, roles and console sessions; the configured owner is created on the first start. */
export const staffModule = defineModule({
  name: 'staff',
  tables: ['staff_account', 'staff_session'],
  entities: [StaffAccount, StaffSession],
  services: ({ infra, config }) => ({ staff: new StaffService(infra.db, infra.kv, config.adminSessionHours) }),
  adminRoutes: async (scope, { services }) => scope.register(staffRoutes, { staff: services.staff }),
  async onReady({ services, config, log }) {
    const owner = await services.staff.ensureOwner(systemCtx, config.admin);
    if (owner === 'created') log.info({ username: config.admin?.username }, 'owner account created');
  },
});
