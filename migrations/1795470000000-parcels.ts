import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Parcels1795470000000 implements MigrationInterface {
  name = 'Parcels1795470000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE parcel_batch (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        scene text NOT NULL CHECK (length(scene) BETWEEN 1 AND 64),
        name text NOT NULL,
        channel_id text,
        quantity_printed integer NOT NULL CHECK (quantity_printed >= 0),
        printing_cost_fen bigint NOT NULL CHECK (printing_cost_fen >= 0),
        insert_text text NOT NULL,
        welcome_text text,
        qr_kind text NOT NULL CHECK (qr_kind IN ('permanent', 'temporary')),
        qr_ticket text,
        qr_url text,
        qr_expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE UNIQUE INDEX uq_parcel_batch_scene ON parcel_batch (scene)');
    await q.query(`
      CREATE TABLE oa_follower (
        openid text PRIMARY KEY,
        unionid text,
        subscribed boolean NOT NULL,
        subscribed_at timestamptz,
        unsubscribed_at timestamptz,
        first_batch_id uuid REFERENCES parcel_batch (id),
        last_batch_id uuid REFERENCES parcel_batch (id),
        first_seen_at timestamptz NOT NULL,
        last_event_at timestamptz NOT NULL,
        member_id uuid,
        info_fetched_at timestamptz
      )`);
    await q.query('CREATE INDEX ix_oa_follower_first_batch ON oa_follower (first_batch_id)');
    await q.query('CREATE INDEX ix_oa_follower_member ON oa_follower (member_id)');
    await q.query(`
      CREATE TABLE follow_event (
        id bigserial PRIMARY KEY,
        batch_id uuid REFERENCES parcel_batch (id),
        openid text NOT NULL,
        event text NOT NULL CHECK (event IN ('subscribe', 'scan', 'unsubscribe')),
        kind text NOT NULL CHECK (kind IN ('new_follow', 'refollow', 'scan', 'unfollow')),
        event_time timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE UNIQUE INDEX uq_follow_event ON follow_event (openid, event, event_time)');
    await q.query('CREATE INDEX ix_follow_event_batch_time ON follow_event (batch_id, event_time)');
    await q.query(`
      CREATE TABLE oa_message (
        id bigserial PRIMARY KEY,
        msg_id text NOT NULL,
        openid text NOT NULL,
        msg_type text NOT NULL,
        content text,
        direction text NOT NULL CHECK (direction IN ('in', 'out')),
        staff_id uuid,
        sent_at timestamptz NOT NULL
      )`);
    await q.query('CREATE UNIQUE INDEX uq_oa_message_msg_id ON oa_message (direction, msg_id)');
    await q.query('CREATE INDEX ix_oa_message_openid_time ON oa_message (openid, sent_at DESC)');
    await q.query('CREATE INDEX ix_oa_message_time ON oa_message (sent_at DESC)');
    await q.query(`
      CREATE TABLE keyword_reply (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        keyword text NOT NULL CHECK (length(keyword) BETWEEN 1 AND 30),
        match_kind text NOT NULL CHECK (match_kind IN ('exact', 'contains')),
        reply text NOT NULL CHECK (length(reply) BETWEEN 1 AND 600),
        priority integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE UNIQUE INDEX uq_keyword_reply ON keyword_reply (keyword, match_kind)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['keyword_reply', 'oa_message', 'follow_event', 'oa_follower', 'parcel_batch']) await q.query(`DROP TABLE ${t}`);
  }
}
