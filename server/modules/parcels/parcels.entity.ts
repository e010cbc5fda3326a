import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export type QrKind = 'permanent' | 'temporary';

/** One print run of parcel inserts: one QR code, its cost and its words. */
@Entity('parcel_batch')
export class ParcelBatch {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The scene_str of the QR code; WeChat sends it back in EventKey. */
  @Column({ type: 'text' })
  scene!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'channel_id', type: 'text', nullable: true })
  channelId!: string | null;

  @Column({ name: 'quantity_printed', type: 'integer' })
  quantityPrinted!: number;

  @Column({ name: 'printing_cost_fen', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  printingCostFen!: number;

  @Column({ name: 'insert_text', type: 'text' })
  insertText!: string;

  @Column({ name: 'welcome_text', type: 'text', nullable: true })
  welcomeText!: string | null;

  @Column({ name: 'qr_kind', type: 'text' })
  qrKind!: QrKind;

  @Column({ name: 'qr_ticket', type: 'text', nullable: true })
  qrTicket!: string | null;

  @Column({ name: 'qr_url', type: 'text', nullable: true })
  qrUrl!: string | null;

  @Column({ name: 'qr_expires_at', type: 'timestamptz', nullable: true })
  qrExpiresAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** A follower of the Official Account, with the batch that brought them. */
@Entity('oa_follower')
export class OaFollower {
  @PrimaryColumn({ type: 'text' })
  openid!: string;

  @Column({ type: 'text', nullable: true })
  unionid!: string | null;

  @Column({ type: 'boolean' })
  subscribed!: boolean;

  @Column({ name: 'subscribed_at', type: 'timestamptz', nullable: true })
  subscribedAt!: Date | null;

  @Column({ name: 'unsubscribed_at', type: 'timestamptz', nullable: true })
  unsubscribedAt!: Date | null;

  @Column({ name: 'first_batch_id', type: 'uuid', nullable: true })
  firstBatchId!: string | null;

  @Column({ name: 'last_batch_id', type: 'uuid', nullable: true })
  lastBatchId!: string | null;

  @Column({ name: 'first_seen_at', type: 'timestamptz' })
  firstSeenAt!: Date;

  @Column({ name: 'last_event_at', type: 'timestamptz' })
  lastEventAt!: Date;

  @Column({ name: 'member_id', type: 'uuid', nullable: true })
  memberId!: string | null;

  @Column({ name: 'info_fetched_at', type: 'timestamptz', nullable: true })
  infoFetchedAt!: Date | null;
}

export type FollowEventKind = 'new_follow' | 'refollow' | 'scan' | 'unfollow';
export type WechatFollowEvent = 'subscribe' | 'scan' | 'unsubscribe';

/** Every follow, scan and unfollow, once each: openid + event + CreateTime is WeChat's own dedupe key. */
@Entity('follow_event')
export class FollowEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'batch_id', type: 'uuid', nullable: true })
  batchId!: string | null;

  @Column({ type: 'text' })
  openid!: string;

  @Column({ type: 'text' })
  event!: WechatFollowEvent;

  @Column({ type: 'text' })
  kind!: FollowEventKind;

  @Column({ name: 'event_time', type: 'timestamptz' })
  eventTime!: Date;

  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;
}

/** Every message a follower sent, kept for customer service. MsgId stays a string (it passes 2^53). */
@Entity('oa_message')
export class OaMessage {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'msg_id', type: 'text' })
  msgId!: string;

  @Column({ type: 'text' })
  openid!: string;

  @Column({ name: 'msg_type', type: 'text' })
  msgType!: string;

  @Column({ type: 'text', nullable: true })
  content!: string | null;

  /** What was answered: a passive reply, or a staff member's customer-service message. */
  @Column({ type: 'text' })
  direction!: 'in' | 'out';

  @Column({ name: 'staff_id', type: 'uuid', nullable: true })
  staffId!: string | null;

  @Column({ name: 'sent_at', type: 'timestamptz' })
  sentAt!: Date;
}

@Entity('keyword_reply')
export class KeywordReply {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  keyword!: string;

  @Column({ name: 'match_kind', type: 'text' })
  matchKind!: 'exact' | 'contains';

  @Column({ type: 'text' })
  reply!: string;

  @Column({ type: 'integer' })
  priority!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
