export { PaymentsService, type PaymentIntent, type PaymentKind, type PaymentRefund } from './payments.service';
export { paymentsModule } from './payments.module';
