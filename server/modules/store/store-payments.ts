import type { FlowRunner } from '../../infra/flows';
import type { PaymentsService } from '../payments';
import type { AfterSalesService } from './after-sales.service';
import type { FulfilmentService } from './fulfilment.service';
import type { OrderService } from './orders.service';

/**
 * The store's part in the payments module and the flow runner, outside any constructor: its payment kind (what a
 * paid, closed or refunded store payment does to its order) and its two flows (the member's cancel, an accepted
 * after-sale's refund). Called once, before the app is ready.
 */
export function registerStorePayments(p: { payments: PaymentsService; flows: FlowRunner; orders: OrderService; fulfilment: FulfilmentService; afterSales: AfterSalesService }): void {
  p.payments.registerKind(p.fulfilment.paymentKind(p.afterSales));
  p.flows.define(p.orders.cancelFlow());
  p.flows.define(p.afterSales.refundFlow());
}
