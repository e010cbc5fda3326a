/**
 * What the people of the sandbox need from the simulated WeChat Pay (server/sandbox/pay): paying a prepay and
 * confirming a merchant transfer. Optional: without it the two person actions answer 501 pay_not_available.
 */
export interface SandboxPayments {
  /** The person pays the JSAPI order behind `prepayId` in the mini-program; the notification follows. */
  pay(prepayId: string, payerMpOpenid: string): Promise<{ transactionId: string }>;
  /** The person confirms a transfer bill (WAIT_USER_CONFIRM) with its `package_info`. */
  confirmTransfer(packageInfo: string, openid: string): Promise<void>;
  /** The payment sheet's description and amount of a prepay of this payer; null when there is none. Optional. */
  prepay?(prepayId: string, payerMpOpenid: string): { description: string; totalFen: number } | null;
  /** The next `count` notifications (of one event type and order, or any) are lost on the way. Optional. */
  dropNotifications?(count: number, filter?: { eventType?: string; outTradeNo?: string }): void;
}
