import { StaffAccount, StaffSession } from './staff/staff.entity';
import { WxPayNotification } from '../wechat/pay/wxpay-notification.entity';
import { FollowEvent, KeywordReply, OaFollower, OaMessage, ParcelBatch } from './parcels/parcels.entity';
import { ReviewCampaign, ReviewClaim } from './review-rewards/review-rewards.entity';
import { MpPrivacyConsent, MpSession } from './mp-session/mp-session.entity';
import { CheckIn, CheckInCard, CheckInReminder, CheckInRules } from './check-ins/check-ins.entity';
import { storeEntities } from './store/store.entity';

/** Every entity of every module: the DataSource is built from this list. */
export const entities = [
  StaffAccount,
  StaffSession,
  WxPayNotification,
  ParcelBatch,
  OaFollower,
  FollowEvent,
  OaMessage,
  KeywordReply,
  ReviewCampaign,
  ReviewClaim,
  MpSession,
  MpPrivacyConsent,
  CheckIn,
  CheckInRules,
  CheckInCard,
  CheckInReminder,
  ...storeEntities,
];
