import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One WeChat Pay notification, processed. The primary key (WeChat's notification id) and the unique business key
 * (transaction id, refund id + status, transfer bill + state) make a redelivery or a second instance a no-op.
 */
@Entity('wxpay_notification')
export class WxPayNotification {
  @PrimaryColumn({ name: 'notification_id', type: 'text' })
  notificationId!: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  @Index('uq_wxpay_notification_business_key', { unique: true })
  @Column({ name: 'business_key', type: 'text' })
  businessKey!: string;

  @Column({ name: 'resource', type: 'jsonb' })
  resource!: unknown;

  @Column({ name: 'signature_serial', type: 'text' })
  signatureSerial!: string;

  @Column({ name: 'handled_by', type: 'text', array: true })
  handledBy!: string[];

  @Column({ name: 'notified_at', type: 'timestamptz' })
  notifiedAt!: Date;

  @CreateDateColumn({ name: 'processed_at', type: 'timestamptz' })
  processedAt!: Date;
}
