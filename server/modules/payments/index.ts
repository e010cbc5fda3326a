import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../infra/db';
import type { PrivacyRegistry } from '../../infra/privacy';
import type { JobQueue } from '../../infra/queue';
import type { WxPayClient } from '../../wechat/pay/wxpay.client';
import type { WxPayNotificationService } from '../../wechat/pay/wxpay-notification.service';
import { wxPayGateway, type PayGateway } from './payments.gateway';
import { paymentsPrivacy } from './payments.privacy';
import { definePaymentJobs, PaymentsService } from './payments.service';

export { PaymentsService, type PaymentIntent, type PaymentKind, type PaymentRefund } from './payments.service';

/**
 * The payments module, wired in one call: the service over WeChat Pay (or a gateway handed in), its jobs (refund
 * sending, the reconciliation sweep), its privacy hooks, and, unless `listen` is false, the payment and refund
 * notifications. Modules that sell something then call `registerKind` before the app is ready.
 */
export function paymentsModule(deps: {
  db: Db;
  queue: JobQueue;
  wxpay: { client: WxPayClient | null; notifications: WxPayNotificationService };
  appid: string;
  privacy: PrivacyRegistry;
  log: FastifyBaseLogger;
  gateway?: PayGateway;
  listen?: boolean;
}): PaymentsService {
  const payments = new PaymentsService(deps.db, deps.queue, deps.gateway ?? wxPayGateway(deps.wxpay.client, deps.appid), deps.log);
  definePaymentJobs(deps.queue, payments);
  deps.privacy.register(paymentsPrivacy(deps.db, deps.wxpay.notifications));
  if (deps.listen !== false) payments.listen(deps.wxpay.notifications);
  return payments;
}
