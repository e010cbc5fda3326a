import { StaffAccount, StaffSession } from './staff/staff.entity';
import { WxPayNotification } from '../wechat/pay/wxpay-notification.entity';

/** Every entity of every module: the DataSource is built from this list. */
export const entities = [StaffAccount, StaffSession, WxPayNotification];
