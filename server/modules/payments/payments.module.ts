import { defineModule } from '../module';
import { wxPayGateway, type PayGateway } from './payments.gateway';
import { paymentsPrivacy } from './payments.privacy';
import { PaymentsService, RECONCILE, SUBMIT_REFUND } from './payments.service';

declare module '../module' {
  interface Services {
    /** Payment intents and refunds of every module that sells something; each registers its kind and prefix. */
    payments: PaymentsService;
  }
  interface PortOverrides {
    /** What the payments module asks WeChat Pay (tests may plug in their own). */
    payGateway: PayGateway;
  }
}

/**
 * Payments: one JSAPI order of one payer per intent, refunds as rows within WeChat Pay's rules, notifications routed
 * by the kinds modules register (`services.payments.registerKind`, in their `services`), and a reconciliation sweep
 * for what WeChat never told.
 */
export const paymentsModule = defineModule({
  name: 'payments',
  tables: ['payment_intent', 'payment_refund'],
  needs: ({ services, overrides }) => ({
    gateway: overrides.payGateway ?? wxPayGateway(services.wxpay, services.wechat.credentials.mp?.appid ?? services.wechat.credentials.appid),
  }),
  services: ({ infra, log, ports }) => ({ payments: new PaymentsService(infra.db, infra.queue, ports.gateway, log.child({ module: 'payments' })) }),
  jobs: ({ services: s }) => [
    { name: SUBMIT_REFUND, retryLimit: 10, retryDelaySeconds: 15, handler: async ({ refundId }: { refundId: string }) => s.payments.submitRefund({}, refundId) },
    { name: RECONCILE, retryLimit: 0, handler: async () => void (await s.payments.reconcile({})) },
  ],
  schedules: [{ job: RECONCILE, cron: '* * * * *', tz: 'Asia/Shanghai' }],
  wxpayNotifications: (notifications, { services }) => services.payments.listen(notifications),
  privacy: ({ infra, services }) => [paymentsPrivacy(infra.db, services.wxpayNotifications)],
});
