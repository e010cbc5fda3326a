import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The avatar a member chose in the mini-program (WeChat's chooseAvatar button): the image itself, at most 1 MB, kept
 * beside the member so that an erasure or a merge reaches it in the same transaction. It is served under an
 * unguessable token that changes with every new image.
 */
export class MemberAvatar1795900000001 implements MigrationInterface {
  name = 'MemberAvatar1795900000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE member_avatar (
        member_id uuid PRIMARY KEY REFERENCES member (id),
        token text NOT NULL UNIQUE CHECK (token ~ '^[0-9a-f]{32}$'),
        content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
        bytes bytea NOT NULL CHECK (octet_length(bytes) BETWEEN 1 AND 1048576),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE member_avatar');
  }
}
