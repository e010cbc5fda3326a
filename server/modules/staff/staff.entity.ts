import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const STAFF_ROLES = ['owner', 'operator', 'customer_service'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

@Entity('staff_account')
export class StaffAccount {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('uq_staff_account_username', { unique: true })
  @Column({ type: 'text' })
  username!: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ type: 'text' })
  role!: StaffRole;

  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt!: Date | null;

  /** Moved on by `admin:unlock`: the login counters are kept per epoch, so a new one starts them afresh. */
  @Column({ name: 'login_epoch', type: 'integer', default: 0 })
  loginEpoch!: number;
}

/** A login session; only a hash of the bearer token is stored, so a leaked table grants nothing. */
@Entity('staff_session')
export class StaffSession {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('uq_staff_session_token_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'text' })
  tokenHash!: string;

  @Column({ name: 'staff_id', type: 'uuid' })
  staffId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
