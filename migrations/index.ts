import { StaffAccounts1795425802000 } from './1795425802000-staff-accounts';

/** Every migration, oldest first. A new migration is added here and never edited once landed. */
export const migrations = [StaffAccounts1795425802000];
