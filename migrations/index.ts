import { StaffAccounts1795425802000 } from './1795425802000-staff-accounts';
import { Members1795440000000 } from './1795440000000-members';
import { PointsLedger1795440100000 } from './1795440100000-points-ledger';
import { TaobaoImports1795440200000 } from './1795440200000-taobao-imports';
import { WxPayNotifications1795460000001 } from './1795460000001-wxpay-notifications';
import { Parcels1795470000000 } from './1795470000000-parcels';
import { ReviewRewards1795470100000 } from './1795470100000-review-rewards';
import { MpSessions1795470200000 } from './1795470200000-mp-sessions';
import { CheckIns1795470300000 } from './1795470300000-check-ins';
import { Store1795480000001 } from './1795480000001-store';
import { DemoSeed1795490000000 } from './1795490000000-demo-seed';
import { SalesOrderNoCheck1795500000000 } from './1795500000000-sales-order-no-check';
import { FollowerInfoSweep1795500100000 } from './1795500100000-follower-info-sweep';
import { PointsCreditFunction1795500200000 } from './1795500200000-points-credit-function';
import { OrderBulkLoad1795500300000 } from './1795500300000-order-bulk-load';
import { StaffLastOwner1795510000000 } from './1795510000000-staff-last-owner';
import { StaffLoginEpoch1795510000001 } from './1795510000001-staff-login-epoch';
import { Payments1795700000000 } from './1795700000000-payments';
import { FlowRuns1795700000001 } from './1795700000001-flow-runs';
import { StoreAfterSales1795700000002 } from './1795700000002-store-after-sales';
import { MemberCode1795900000000 } from './1795900000000-member-code';
import { MemberAvatar1795900000001 } from './1795900000001-member-avatar';
import { GiftBox1796100000000 } from './1796100000000-gift-box';

/** Every migration, oldest first. A new migration is added here and never edited once landed. */
export const migrations = [
  StaffAccounts1795425802000,
  Members1795440000000,
  PointsLedger1795440100000,
  TaobaoImports1795440200000,
  WxPayNotifications1795460000001,
  Parcels1795470000000,
  ReviewRewards1795470100000,
  MpSessions1795470200000,
  CheckIns1795470300000,
  Store1795480000001,
  DemoSeed1795490000000,
  SalesOrderNoCheck1795500000000,
  FollowerInfoSweep1795500100000,
  PointsCreditFunction1795500200000,
  OrderBulkLoad1795500300000,
  StaffLastOwner1795510000000,
  StaffLoginEpoch1795510000001,
  Payments1795700000000,
  FlowRuns1795700000001,
  StoreAfterSales1795700000002,
  MemberCode1795900000000,
  MemberAvatar1795900000001,
  GiftBox1796100000000,
];
