import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The login lockout's counters live in the key-value store under the account's epoch; `admin:unlock` moves the epoch
 * on, so a command with only the database at hand clears every counter of the account, whichever store holds them.
 */
export class StaffLoginEpoch1795510000001 implements MigrationInterface {
  name = 'StaffLoginEpoch1795510000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE staff_account ADD COLUMN login_epoch integer NOT NULL DEFAULT 0');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE staff_account DROP COLUMN login_epoch');
  }
}
