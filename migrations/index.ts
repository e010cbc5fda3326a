import { StaffAccounts1795425802000 } from './1795425802000-staff-accounts';
import { WxPayNotifications1795460000001 } from './1795460000001-wxpay-notifications';

/** Every migration, oldest first. A new migration is added here and never edited once landed. */
export const migrations = [StaffAccounts1795425802000, WxPayNotifications1795460000001];
