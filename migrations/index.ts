import { StaffAccounts1795425802000 } from './1795425802000-staff-accounts';
import { Members1795440000000 } from './1795440000000-members';
import { PointsLedger1795440100000 } from './1795440100000-points-ledger';
import { TaobaoImports1795440200000 } from './1795440200000-taobao-imports';

/** Every migration, oldest first. A new migration is added here and never edited once landed. */
export const migrations = [StaffAccounts1795425802000, Members1795440000000, PointsLedger1795440100000, TaobaoImports1795440200000];
