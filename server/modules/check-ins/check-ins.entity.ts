import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One row per member and Asia/Shanghai day: the primary key is what makes a check-in happen once a day. */
@Entity('check_in')
export class CheckIn {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId!: string;

  @PrimaryColumn({ type: 'date' })
  day!: string;

  @Column({ type: 'integer' })
  streak!: number;

  @Column({ name: 'made_up', type: 'boolean' })
  madeUp!: boolean;

  @Column({ name: 'reward_points', type: 'integer' })
  rewardPoints!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** The merchant's check-in rules: one row. */
@Entity('check_in_rules')
export class CheckInRules {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  @Column({ name: 'base_points', type: 'integer' })
  basePoints!: number;

  @Column({ name: 'day7_bonus', type: 'integer' })
  day7Bonus!: number;

  @Column({ name: 'day30_bonus', type: 'integer' })
  day30Bonus!: number;

  @Column({ name: 'make_up_cost_points', type: 'integer' })
  makeUpCostPoints!: number;

  /** How far back a missed day can be made up. */
  @Column({ name: 'make_up_window_days', type: 'integer' })
  makeUpWindowDays!: number;

  /** The subscription-message template of the daily reminder. */
  @Column({ name: 'reminder_template_id', type: 'text', nullable: true })
  reminderTemplateId!: string | null;
}

/** Make-up cards (补签卡) a member holds: earned on every 7th day of a streak. */
@Entity('check_in_card')
export class CheckInCard {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId!: string;

  @Column({ type: 'integer' })
  cards!: number;
}

/** One-time subscription consents for the reminder: each acceptance allows one message (WeChat's rule). */
@Entity('check_in_reminder')
export class CheckInReminder {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId!: string;

  @Column({ name: 'mp_openid', type: 'text' })
  mpOpenid!: string;

  @Column({ name: 'remaining', type: 'integer' })
  remaining!: number;

  @Column({ name: 'last_sent_day', type: 'date', nullable: true })
  lastSentDay!: string | null;
}
