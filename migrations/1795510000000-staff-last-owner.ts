import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An active owner always remains: disabling, demoting or deleting the last one fails in the database, whatever
 * path the change takes (the API, a CLI, SQL). Owners leaving are serialised by a transaction-scoped advisory lock
 * taken before the count, and the count is a fresh statement after the lock: two owners disabling each other at
 * once see each other's committed change, so the second is refused. Error HINT `last_owner`.
 */
export class StaffLastOwner1795510000000 implements MigrationInterface {
  name = 'StaffLastOwner1795510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION staff_keep_an_owner() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.role = 'owner' AND OLD.disabled_at IS NULL
           AND (TG_OP = 'DELETE' OR NEW.role <> 'owner' OR NEW.disabled_at IS NOT NULL) THEN
          PERFORM pg_advisory_xact_lock(hashtext('staff_account:active_owners'));
          IF NOT EXISTS (SELECT 1 FROM staff_account WHERE role = 'owner' AND disabled_at IS NULL) THEN
            RAISE EXCEPTION 'the last active owner cannot be disabled, demoted or deleted'
              USING ERRCODE = 'check_violation', HINT = 'last_owner';
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER staff_keep_an_owner AFTER UPDATE OF role, disabled_at OR DELETE ON staff_account
        FOR EACH ROW EXECUTE FUNCTION staff_keep_an_owner()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER staff_keep_an_owner ON staff_account');
    await q.query('DROP FUNCTION staff_keep_an_owner');
  }
}
