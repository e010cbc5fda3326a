import type { Ctx, Db } from '../../infra/db';
import { conflict, notFound } from '../../infra/errors';
import { maskPhone } from '../../infra/logging';
import type { StaffRole } from '../staff/staff.entity';
import { StoreAddress } from './store.entity';

export interface AddressInput {
  name: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  detail: string;
  isDefault?: boolean;
}

export interface AddressView {
  id: string;
  name: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  detail: string;
  isDefault: boolean;
}

const MAX_ADDRESSES = 20;

export function addressView(a: StoreAddress | AddressView, masked: boolean): AddressView {
  return {
    id: a.id,
    name: a.name,
    phone: masked ? maskPhone(a.phone) : a.phone,
    province: a.province,
    city: a.city,
    district: a.district,
    detail: a.detail,
    isDefault: a.isDefault,
  };
}

/**
 * The staff roles that ship goods (store orders, mall gifts): they print the receiver on the parcel, so they see it
 * in full. The others (customer service) see the region, the name's first character and the phone's first three
 * and last four digits: enough to recognise a buyer on the phone, not to find their door.
 */
export const SHIPPING_ROLES: readonly StaffRole[] = ['owner', 'operator'];

export const shipsGoods = (role: StaffRole) => SHIPPING_ROLES.includes(role);

/** What a street address becomes for a role that does not ship. */
export const HIDDEN_DETAIL = '***';

/** A receiver (an order's or a gift's address copy) as a role that does not ship sees it. */
export function maskedReceiver<T extends object>(receiver: T): T {
  const a = receiver as Record<string, unknown>;
  const name = typeof a.name === 'string' ? Array.from(a.name) : [];
  const phone = typeof a.phone === 'string' ? a.phone : '';
  const masked = maskPhone(phone);
  return {
    ...a,
    name: name.length ? name[0] + '*'.repeat(Math.max(1, name.length - 1)) : '',
    // Every stored phone is a mainland mobile (validated); anything else keeps only its last four digits.
    phone: masked !== phone || phone === '' ? masked : '*'.repeat(Math.max(0, phone.length - 4)) + phone.slice(-4),
    detail: HIDDEN_DETAIL,
  } as T;
}

/** A member's address book; one default per member, enforced by a partial unique index. */
export class AddressService {
  constructor(private readonly db: Db) {}

  async list(ctx: Ctx, memberId: string): Promise<StoreAddress[]> {
    return this.db.repo(ctx, StoreAddress).find({ where: { memberId }, order: { isDefault: 'DESC', createdAt: 'DESC' } });
  }

  async get(ctx: Ctx, memberId: string, id: string): Promise<StoreAddress> {
    const a = await this.db.repo(ctx, StoreAddress).findOneBy({ id, memberId });
    if (!a) throw notFound('address_not_found', 'No such address');
    return a;
  }

  /** With an idempotency key, a repeated create (a double tap) returns the first address. */
  async create(ctx: Ctx, memberId: string, input: AddressInput, idempotencyKey?: string): Promise<StoreAddress> {
    return this.db.transaction(ctx, async (tx) => {
      // Serialises one member's address writes so the count and the default stay right.
      await this.db.rows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`address:${memberId}`]);
      if (idempotencyKey) {
        const first = await this.db.repo(tx, StoreAddress).findOneBy({ memberId, idempotencyKey });
        if (first) return first;
      }
      const [{ n }] = await this.db.rows<{ n: number }>(tx, 'SELECT count(*)::int AS n FROM store_address WHERE member_id = $1', [memberId]);
      if (n >= MAX_ADDRESSES) throw conflict('too_many_addresses', `At most ${MAX_ADDRESSES} addresses`);
      const isDefault = input.isDefault === true || n === 0;
      if (isDefault) await this.db.rows(tx, 'UPDATE store_address SET is_default = false WHERE member_id = $1 AND is_default', [memberId]);
      const [row] = await this.db.rows<{ id: string }>(tx, `INSERT INTO store_address (member_id, name, phone, province, city, district, detail, is_default, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [memberId, input.name, input.phone, input.province, input.city, input.district, input.detail, isDefault, idempotencyKey ?? null],
      );
      return this.get(tx, memberId, row.id);
    });
  }

  async update(ctx: Ctx, memberId: string, id: string, input: AddressInput): Promise<StoreAddress> {
    return this.db.transaction(ctx, async (tx) => {
      await this.db.rows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`address:${memberId}`]);
      const current = await this.get(tx, memberId, id);
      const isDefault = input.isDefault ?? current.isDefault;
      if (isDefault) await this.db.rows(tx, 'UPDATE store_address SET is_default = false WHERE member_id = $1 AND is_default AND id <> $2', [memberId, id]);
      await this.db.rows(
        tx,
        `UPDATE store_address SET name = $3, phone = $4, province = $5, city = $6, district = $7, detail = $8, is_default = $9
         WHERE id = $1 AND member_id = $2`,
        [id, memberId, input.name, input.phone, input.province, input.city, input.district, input.detail, isDefault],
      );
      return this.get(tx, memberId, id);
    });
  }

  async remove(ctx: Ctx, memberId: string, id: string): Promise<void> {
    await this.db.transaction(ctx, async (tx) => {
      await this.db.rows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`address:${memberId}`]);
      const [removed] = await this.db.rows<{ is_default: boolean }>(tx, 'DELETE FROM store_address WHERE id = $1 AND member_id = $2 RETURNING is_default', [id, memberId]);
      if (!removed) throw notFound('address_not_found', 'No such address');
      // The newest remaining address becomes the default, as members expect.
      if (removed.is_default) {
        await this.db.rows(
          tx,
          `UPDATE store_address SET is_default = true
           WHERE id = (SELECT id FROM store_address WHERE member_id = $1 ORDER BY created_at DESC LIMIT 1)`,
          [memberId],
        );
      }
    });
  }
}
