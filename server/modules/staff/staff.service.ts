import { IsNull } from 'typeorm';
import type { Ctx, Db } from '../../infra/db';
import type { KvStore } from '../../infra/kv';
import { conflict, isUniqueViolation, rateLimited, unauthorized, notFound } from '../../infra/errors';
import { decoyHash, hashPassword, hashToken, newToken, verifyPassword } from '../../infra/password';
import { StaffAccount, StaffSession, type StaffRole } from './staff.entity';

export interface StaffIdentity {
  readonly id: string;
  readonly username: string;
  readonly role: StaffRole;
  readonly sessionId: string;
}

export interface StaffView {
  id: string;
  username: string;
  role: StaffRole;
  displayName: string | null;
  createdAt: string;
  disabled: boolean;
}

/**
 * Login guesses are bounded per guesser, not per account, so a guesser cannot lock the owner out:
 * - per account and address: LOGIN_ADDRESS_LIMIT judged guesses in LOGIN_ADDRESS_WINDOW_MS, then that address is
 *   refused (`too_many_attempts`) while every other address still gets in;
 * - per account, from every address together: LOGIN_ACCOUNT_FREE guesses in LOGIN_ACCOUNT_WINDOW_MS, then one guess per
 *   delay, the delay doubling with each (from LOGIN_DELAY_BASE_MS up to LOGIN_DELAY_MAX_MS); a call inside the delay
 *   is refused (`login_delayed`) with the seconds to wait, never held open.
 * Each guess is counted before it is judged, so guesses arriving together cannot all read a count under the limit.
 */
export const LOGIN_ADDRESS_LIMIT = 10;
export const LOGIN_ADDRESS_WINDOW_MS = 15 * 60_000;
export const LOGIN_ACCOUNT_FREE = 30;
export const LOGIN_ACCOUNT_WINDOW_MS = 60 * 60_000;
export const LOGIN_DELAY_BASE_MS = 1_000;
export const LOGIN_DELAY_MAX_MS = 60_000;

const loginKeys = (name: string, epoch: number, address: string) => {
  const base = `staff:login:${name}:${epoch}`;
  return { address: `${base}:addr:${address}`, account: `${base}:all`, delay: `${base}:delay` };
};

const retryIn = (ms: number) => ({ retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) });


export class StaffService {
  constructor(
    private readonly db: Db,
    private readonly kv: KvStore,
    private readonly sessionHours: number,
  ) {}

  async createAccount(ctx: Ctx, input: { username: string; password: string; role: StaffRole; displayName?: string }): Promise<StaffView> {
    const account = this.db.repo(ctx, StaffAccount).create({
      username: input.username.toLowerCase(),
      passwordHash: await hashPassword(input.password),
      role: input.role,
      displayName: input.displayName ?? null,
      disabledAt: null,
    });
    try {
      await this.db.repo(ctx, StaffAccount).insert(account);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('username_taken', `Username ${input.username} is already taken`);
      throw err;
    }
    return toView(account);
  }

  /** First start: create the owner named in the config unless that account already exists. */
  async ensureOwner(ctx: Ctx, admin: { username: string; password: string } | undefined): Promise<'created' | 'exists' | 'skipped'> {
    if (!admin) return 'skipped';
    const existing = await this.db.repo(ctx, StaffAccount).findOneBy({ username: admin.username.toLowerCase() });
    if (existing) return 'exists';
    try {
      await this.createAccount(ctx, { username: admin.username, password: admin.password, role: 'owner' });
      return 'created';
    } catch (err) {
      if ((err as { code?: string }).code === 'username_taken') return 'exists'; // another instance won the race
      throw err;
    }
  }

  async list(ctx: Ctx): Promise<StaffView[]> {
    const rows = await this.db.repo(ctx, StaffAccount).find({ order: { createdAt: 'ASC' } });
    return rows.map(toView);
  }

  async login(ctx: Ctx, username: string, password: string, address: string): Promise<{ token: string; expiresAt: Date; staff: StaffView }> {
    const name = username.toLowerCase();
    const account = await this.db.repo(ctx, StaffAccount).findOneBy({ username: name });
    const keys = loginKeys(name, account?.loginEpoch ?? 0, address);
    // A running delay refuses before anything is counted: waiting it out costs the owner no guess.
    const delayedUntil = Number(await this.kv.get(keys.delay));
    if (delayedUntil > Date.now()) throw delayed(delayedUntil);
    const fromHere = await this.kv.incr(keys.address, LOGIN_ADDRESS_WINDOW_MS);
    if (fromHere.count > LOGIN_ADDRESS_LIMIT) {
      throw rateLimited('too_many_attempts', 'Too many failed logins from this address; try again later', retryIn(fromHere.ttlMs));
    }
    const fromAll = await this.kv.incr(keys.account, LOGIN_ACCOUNT_WINDOW_MS);
    if (fromAll.count > LOGIN_ACCOUNT_FREE) {
      const delayMs = Math.min(LOGIN_DELAY_BASE_MS * 2 ** Math.min(fromAll.count - LOGIN_ACCOUNT_FREE - 1, 30), LOGIN_DELAY_MAX_MS);
      const until = Date.now() + delayMs;
      // One guess per delay: the guess that starts the next delay is the one judged; the others wait for it.
      if (!(await this.kv.setIfAbsent(keys.delay, String(until), delayMs))) {
        await this.kv.decr(keys.account);
        throw delayed(Number(await this.kv.get(keys.delay)) || until);
      }
    }

    const ok = await verifyPassword(password, account?.passwordHash ?? (await decoyHash));
    if (!account || !ok || account.disabledAt) throw unauthorized('invalid_credentials', 'Wrong username or password');
    // The right password is not a guess: this address starts afresh, and the account's count gives this call back.
    await this.kv.del(keys.address);
    await this.kv.decr(keys.account);
    const token = newToken();
    const expiresAt = new Date(Date.now() + this.sessionHours * 3_600_000);
    await this.db.repo(ctx, StaffSession).insert({ tokenHash: hashToken(token), staffId: account.id, expiresAt, revokedAt: null });
    return { token, expiresAt, staff: toView(account) };
  }

  /** `admin:unlock`: the account's login counters start afresh, on every address; false when there is no such account. */
  async unlock(ctx: Ctx, username: string): Promise<boolean> {
    const res = await this.db.repo(ctx, StaffAccount).increment({ username: username.toLowerCase() }, 'loginEpoch', 1);
    return Boolean(res.affected);
  }

  /** The staff member behind a bearer token, or a 401 naming why. */
  async authenticate(ctx: Ctx, token: string): Promise<StaffIdentity> {
    const row = await this.db
      .em(ctx)
      .createQueryBuilder(StaffSession, 's')
      .innerJoin(StaffAccount, 'a', 'a.id = s.staff_id')
      .select(['s.id AS session_id', 's.expires_at AS expires_at', 's.revoked_at AS revoked_at'])
      .addSelect(['a.id AS id', 'a.username AS username', 'a.role AS role', 'a.disabled_at AS disabled_at'])
      .where('s.token_hash = :h', { h: hashToken(token) })
      .getRawOne<{ session_id: string; expires_at: Date; revoked_at: Date | null; id: string; username: string; role: StaffRole; disabled_at: Date | null }>();
    if (!row || row.revoked_at || row.disabled_at) throw unauthorized('invalid_session', 'Session is not valid; log in again');
    if (new Date(row.expires_at).getTime() <= Date.now()) throw unauthorized('session_expired', 'Session expired; log in again');
    return { id: row.id, username: row.username, role: row.role, sessionId: row.session_id };
  }

  async logout(ctx: Ctx, sessionId: string): Promise<void> {
    await this.db.repo(ctx, StaffSession).update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  /**
   * Disabling an account also revokes every session it has. The last active owner cannot be disabled (409
   * `last_owner`): the database refuses it (migration StaffLastOwner), race-safe.
   */
  async disable(ctx: Ctx, staffId: string): Promise<void> {
    try {
      await this.db.transaction(ctx, async (tx) => {
        const res = await this.db.repo(tx, StaffAccount).update({ id: staffId, disabledAt: IsNull() }, { disabledAt: new Date() });
        if (!res.affected) throw notFound('staff_not_found', 'No active staff account with that id');
        await this.db.repo(tx, StaffSession).update({ staffId, revokedAt: IsNull() }, { revokedAt: new Date() });
      });
    } catch (err) {
      throw lastOwnerError(err);
    }
  }
}

/** The database's refusal to leave no active owner, as the API's stable error. */
export function lastOwnerError(err: unknown): unknown {
  const e = err as { hint?: string; driverError?: { hint?: string } };
  if ((e?.driverError?.hint ?? e?.hint) !== 'last_owner') return err;
  return conflict('last_owner', 'This is the last active owner: make another account owner first');
}

const delayed = (until: number) =>
  rateLimited('login_delayed', 'Too many failed logins on this account; wait before trying again', retryIn(until - Date.now()));

function toView(a: StaffAccount): StaffView {
  return {
    id: a.id,
    username: a.username,
    role: a.role,
    displayName: a.displayName,
    createdAt: new Date(a.createdAt ?? Date.now()).toISOString(),
    disabled: Boolean(a.disabledAt),
  };
}
