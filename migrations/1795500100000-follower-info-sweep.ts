import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Follower info is fetched by a sweep over the followers still missing it (100 per WeChat call): what is due. */
export class FollowerInfoSweep1795500100000 implements MigrationInterface {
  name = 'FollowerInfoSweep1795500100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX ix_oa_follower_info_due ON oa_follower (first_seen_at) WHERE info_fetched_at IS NULL');
    // Erased followers have nothing left to fetch.
    await q.query("UPDATE oa_follower SET info_fetched_at = now() WHERE info_fetched_at IS NULL AND openid LIKE 'erased:%'");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX ix_oa_follower_info_due');
  }
}
