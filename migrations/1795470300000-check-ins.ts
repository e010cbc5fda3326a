import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CheckIns1795470300000 implements MigrationInterface {
  name = 'CheckIns1795470300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE check_in (
        member_id uuid NOT NULL,
        day date NOT NULL,
        streak integer NOT NULL CHECK (streak >= 1),
        made_up boolean NOT NULL DEFAULT false,
        reward_points integer NOT NULL CHECK (reward_points >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (member_id, day)
      )`);
    await q.query(`
      CREATE TABLE check_in_rules (
        id integer PRIMARY KEY CHECK (id = 1),
        base_points integer NOT NULL CHECK (base_points >= 0),
        day7_bonus integer NOT NULL CHECK (day7_bonus >= 0),
        day30_bonus integer NOT NULL CHECK (day30_bonus >= 0),
        make_up_cost_points integer NOT NULL CHECK (make_up_cost_points >= 0),
        make_up_window_days integer NOT NULL CHECK (make_up_window_days BETWEEN 1 AND 31),
        reminder_template_id text
      )`);
    await q.query('INSERT INTO check_in_rules VALUES (1, 5, 20, 100, 50, 7, NULL)');
    await q.query(`
      CREATE TABLE check_in_card (
        member_id uuid PRIMARY KEY,
        cards integer NOT NULL CHECK (cards >= 0)
      )`);
    await q.query(`
      CREATE TABLE check_in_reminder (
        member_id uuid PRIMARY KEY,
        mp_openid text NOT NULL,
        remaining integer NOT NULL CHECK (remaining >= 0),
        last_sent_day date
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['check_in_reminder', 'check_in_card', 'check_in_rules', 'check_in']) await q.query(`DROP TABLE ${t}`);
  }
}
