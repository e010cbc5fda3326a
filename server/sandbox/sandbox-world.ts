import { randomBytes, randomInt } from 'node:crypto';
import { memorySandboxState, type SandboxState } from './sandbox-state';

/** A WeChat errcode answer, exactly as WeChat shapes it. */
export class WxError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${errcode} ${errmsg}`);
  }
}

export interface AppAccount {
  readonly appid: string;
  readonly secret: string;
}

export type InboxChannel = 'reply' | 'custom' | 'template' | 'mass' | 'subscribe' | 'mp_subscribe';

export interface InboxItem {
  readonly id: number;
  readonly at: string;
  readonly channel: InboxChannel;
  /** The text shown to the person, or a summary of a template's data. */
  readonly text: string;
  readonly payload: unknown;
}

/** A window in which customer-service messages may be sent, opened by something the person did. */
interface ServiceWindow {
  expiresAt: number;
  remaining: number; // Infinity after a payment
}

export interface Person {
  readonly id: string;
  readonly nickname: string;
  readonly oaOpenid: string;
  readonly mpOpenid: string;
  readonly unionid: string;
  following: boolean;
  subscribeTime?: number;
  subscribeScene?: string;
  qrScene?: string;
  tagIds: Set<number>;
  windows: ServiceWindow[];
  /** One-time subscription acceptances by template id (OA and mini-program share nothing: keyed by app). */
  acceptances: Map<string, number>;
  inbox: InboxItem[];
}

export interface QrTicket {
  readonly ticket: string;
  readonly actionName: string;
  readonly scene: string;
  readonly permanent: boolean;
  readonly url: string;
  readonly createdAt: number;
  readonly expiresAt?: number;
  scans: number;
}

/** Daily (or per-minute) limits as WeChat documents them; tests lower them to see the errcodes. */
export const DEFAULT_QUOTAS = {
  qrcode_create: 100_000,
  template_send: 100_000,
  mass_send: 100,
  custom_send: 500_000,
  user_info: 5_000_000, // user/info and user/info/batchget calls a day
  stable_token_force: 20,
  mass_per_user_month: 4,
};
export type QuotaName = keyof typeof DEFAULT_QUOTAS;

const TOKEN_TTL_S = 7200;
const OLD_TOKEN_GRACE_MS = 5 * 60_000;
const MAX_PERMANENT_QR = 100_000;
const MAX_TAGS = 100;
const MAX_TAGS_PER_USER = 20;

/** Asia/Shanghai calendar day: WeChat's quotas reset at Beijing midnight. */
const beijingDay = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);

const openidFor = (prefix: string) => `${prefix}${randomBytes(21).toString('base64url').slice(0, 27)}`; // 28 characters, like WeChat's

/** A person as kept in the sandbox state: the sets and maps as lists, an unlimited window's count as null. */
interface KeptPerson extends Omit<Person, 'tagIds' | 'windows' | 'acceptances' | 'inbox'> {
  tagIds: number[];
  windows: Array<{ expiresAt: number; remaining: number | null }>;
  acceptances: Array<[string, number]>;
}

/** The world's own numbers and settings, kept as one record. */
interface KeptWorld {
  originalId: string;
  nextTagId: number;
  nextInboxId: number;
  nextMsgId: string;
  quotas: typeof DEFAULT_QUOTAS;
  menu?: { button: unknown[] };
  tokenFetches: { oa: number; mp: number };
  stableTokens: Array<['oa' | 'mp', { token: string; lastForce: number }]>;
}

type ShippingUpload = { orderKey: Record<string, unknown>; logisticsType: number; shippingList: Array<Record<string, unknown>>; payerOpenid: string; at: string };

/**
 * The state of a simulated WeChat: two apps (the Official Account and the mini-program), people with openids and
 * inboxes, tokens, QR tickets, tags, quotas and the windows WeChat enforces. Held in memory and, given a durable
 * SandboxState, kept there record by record, so that a restart finds the same world (only the clock shift is not).
 */
export class SandboxWorld {
  readonly originalId: string = `gh_${randomBytes(6).toString('hex')}`;
  readonly people = new Map<string, Person>();
  readonly qrcodes = new Map<string, QrTicket>();
  readonly tags = new Map<number, { id: number; name: string }>();
  readonly tokenFetches = { oa: 0, mp: 0 };
  private quotaLimits = { ...DEFAULT_QUOTAS };
  private menuSet: { button: unknown[] } | undefined;
  /** upload_shipping_info calls received, newest last. */
  readonly shippingUploads: ShippingUpload[] = [];
  private readonly tokens = new Map<string, { app: 'oa' | 'mp'; expiresAt: number }>();
  private readonly stableTokens = new Map<'oa' | 'mp', { token: string; lastForce: number }>();
  private readonly loginCodes = new Map<string, { personId: string; used: boolean; expiresAt: number }>();
  private readonly counters = new Map<string, number>();
  private readonly peopleByOaOpenid = new Map<string, Person>();
  private readonly clientMsgIds = new Map<string, number>();
  private nextTagId = 100;
  private nextInboxId = 1;
  private nextMsgId = BigInt(Date.now()) * 1_000_000n;
  now: () => number = () => Date.now();

  constructor(
    readonly oa: AppAccount,
    readonly mp: AppAccount,
    private readonly state: SandboxState = memorySandboxState(),
  ) {
    this.restore();
  }

  get quotas(): typeof DEFAULT_QUOTAS {
    return this.quotaLimits;
  }

  /** Tests lower a limit to see its errcode. */
  setQuota(name: QuotaName, limit: number): typeof DEFAULT_QUOTAS {
    this.quotaLimits = { ...this.quotaLimits, [name]: limit };
    this.keepWorld();
    return this.quotaLimits;
  }

  get menu(): { button: unknown[] } | undefined {
    return this.menuSet;
  }

  setMenu(menu: { button: unknown[] }): void {
    this.menuSet = menu;
    this.keepWorld();
  }

  recordShipping(upload: ShippingUpload): void {
    this.shippingUploads.push(upload);
    const n = this.shippingUploads.length - 1;
    this.state.changed('shipping', String(n).padStart(9, '0'), () => this.shippingUploads[n]);
  }

  // Keeping -----------------------------------------------------------------------------------------------------

  /** The world as the state last held it; nothing when the state is new or in memory. */
  private restore(): void {
    const [meta] = this.state.records<KeptWorld>('world');
    if (meta) {
      const w = meta[1];
      (this as { originalId: string }).originalId = w.originalId;
      this.nextTagId = w.nextTagId;
      this.nextInboxId = w.nextInboxId;
      this.nextMsgId = BigInt(w.nextMsgId);
      this.quotaLimits = { ...DEFAULT_QUOTAS, ...w.quotas };
      this.menuSet = w.menu;
      Object.assign(this.tokenFetches, w.tokenFetches);
      for (const [app, t] of w.stableTokens) this.stableTokens.set(app, t);
    } else {
      this.keepWorld(); // the new world's original id, from its first start on
    }
    for (const [, k] of this.state.records<KeptPerson>('person')) {
      const person: Person = {
        ...k,
        tagIds: new Set(k.tagIds),
        windows: k.windows.map((w) => ({ expiresAt: w.expiresAt, remaining: w.remaining ?? Infinity })),
        acceptances: new Map(k.acceptances),
        inbox: [],
      };
      this.people.set(person.id, person);
      this.peopleByOaOpenid.set(person.oaOpenid, person);
    }
    for (const [, { personId, item }] of this.state.records<{ personId: string; item: InboxItem }>('inbox')) this.people.get(personId)?.inbox.push(item);
    for (const p of this.people.values()) p.inbox.sort((a, b) => a.id - b.id);
    for (const [ticket, qr] of this.state.records<QrTicket>('qr')) this.qrcodes.set(ticket, qr);
    for (const [, tag] of this.state.records<{ id: number; name: string }>('tag')) this.tags.set(tag.id, tag);
    for (const [token, t] of this.state.records<{ app: 'oa' | 'mp'; expiresAt: number }>('token')) this.tokens.set(token, t);
    for (const [code, c] of this.state.records<{ personId: string; used: boolean; expiresAt: number }>('login')) this.loginCodes.set(code, c);
    for (const [key, n] of this.state.records<number>('counter')) this.counters.set(key, n);
    for (const [id, at] of this.state.records<number>('client_msg')) this.clientMsgIds.set(id, at);
    for (const [, upload] of this.state.records<ShippingUpload>('shipping')) this.shippingUploads.push(upload);
  }

  private keepWorld(): void {
    this.state.changed('world', 'world', (): KeptWorld => ({
      originalId: this.originalId,
      nextTagId: this.nextTagId,
      nextInboxId: this.nextInboxId,
      nextMsgId: this.nextMsgId.toString(),
      quotas: this.quotaLimits,
      menu: this.menuSet,
      tokenFetches: { ...this.tokenFetches },
      stableTokens: [...this.stableTokens],
    }));
  }

  private keepPerson(p: Person): void {
    this.state.changed('person', p.id, (): KeptPerson => {
      const { inbox: _inbox, tagIds, windows, acceptances, ...rest } = p;
      return {
        ...rest,
        tagIds: [...tagIds],
        windows: windows.map((w) => ({ expiresAt: w.expiresAt, remaining: Number.isFinite(w.remaining) ? w.remaining : null })),
        acceptances: [...acceptances],
      };
    });
  }

  private keepToken(token: string): void {
    this.state.changed('token', token, () => this.tokens.get(token));
  }

  private keepCounter(key: string): void {
    this.state.changed('counter', key, () => this.counters.get(key));
  }

  // People ----------------------------------------------------------------------------------------------------

  createPerson(nickname?: string): Person {
    const n = this.people.size + 1;
    const person: Person = {
      id: `p${n}-${randomBytes(3).toString('hex')}`,
      nickname: nickname?.trim() || `顾客${n}`,
      oaOpenid: openidFor('o'),
      mpOpenid: openidFor('m'),
      unionid: openidFor('u'),
      following: false,
      tagIds: new Set(),
      windows: [],
      acceptances: new Map(),
      inbox: [],
    };
    this.people.set(person.id, person);
    this.peopleByOaOpenid.set(person.oaOpenid, person);
    this.keepPerson(person);
    return person;
  }

  person(id: string): Person | undefined {
    return this.people.get(id);
  }

  byOaOpenid(openid: string): Person | undefined {
    return this.peopleByOaOpenid.get(openid);
  }

  byMpOpenid(openid: string): Person | undefined {
    for (const p of this.people.values()) if (p.mpOpenid === openid) return p;
    return undefined;
  }

  deliver(person: Person, channel: InboxChannel, text: string, payload: unknown): InboxItem {
    const item: InboxItem = { id: this.nextInboxId++, at: new Date(this.now()).toISOString(), channel, text, payload };
    person.inbox.push(item);
    this.state.changed('inbox', `${person.id}/${item.id}`, () => ({ personId: person.id, item }));
    this.keepWorld();
    return item;
  }

  /** A 64-bit MsgId, above 2^53 like WeChat's. */
  newMsgId(): string {
    this.nextMsgId += 1n;
    this.keepWorld();
    return (4_561_255_354_251_345_929n + this.nextMsgId).toString();
  }

  /** What the person did opens a customer-service window: a message 48 h / 5, a click, follow or scan 1 min / 3. */
  openWindow(person: Person, kind: 'message' | 'interaction' | 'payment'): void {
    const now = this.now();
    if (kind === 'message') person.windows.push({ expiresAt: now + 48 * 3600_000, remaining: 5 });
    else if (kind === 'interaction') person.windows.push({ expiresAt: now + 60_000, remaining: 3 });
    else person.windows.push({ expiresAt: now + 48 * 3600_000, remaining: Infinity });
    this.keepPerson(person);
  }

  follow(person: Person, scene?: { scene: string; via: 'qr' } | undefined): void {
    person.following = true;
    person.subscribeTime = Math.floor(this.now() / 1000);
    person.subscribeScene = scene ? 'ADD_SCENE_QR_CODE' : 'ADD_SCENE_SEARCH';
    person.qrScene = scene?.scene;
    this.openWindow(person, 'interaction'); // keeps the person
  }

  unfollow(person: Person): void {
    person.following = false;
    person.windows = [];
    person.tagIds.clear();
    this.keepPerson(person);
  }

  loginCode(person: Person): string {
    const now = this.now();
    // A code past its five minutes answers 40029 whether it is known or not: forgotten, so that codes do not pile up.
    for (const [c, v] of this.loginCodes) {
      if (v.expiresAt > now) continue;
      this.loginCodes.delete(c);
      this.state.changed('login', c, () => undefined);
    }
    const code = randomBytes(16).toString('hex');
    this.loginCodes.set(code, { personId: person.id, used: false, expiresAt: now + 5 * 60_000 });
    this.state.changed('login', code, () => this.loginCodes.get(code));
    return code;
  }

  acceptSubscription(person: Person, app: 'oa' | 'mp', templateId: string): number {
    const key = `${app}:${templateId}`;
    const n = (person.acceptances.get(key) ?? 0) + 1;
    person.acceptances.set(key, n);
    this.keepPerson(person);
    return n;
  }

  // Tokens ----------------------------------------------------------------------------------------------------

  issueToken(query: { grant_type?: string; appid?: string; secret?: string }): { access_token: string; expires_in: number } {
    if (query.grant_type !== 'client_credential') throw new WxError(40002, 'invalid grant_type');
    const app = this.appOf(query.appid, query.secret);
    this.tokenFetches[app]++;
    this.keepWorld();
    const now = this.now();
    // A new token kills the ones before it within five minutes.
    for (const [t, v] of this.tokens) {
      if (v.app !== app || v.expiresAt <= now + OLD_TOKEN_GRACE_MS) continue;
      v.expiresAt = now + OLD_TOKEN_GRACE_MS;
      this.keepToken(t);
    }
    const token = `sbx_${app}_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { app, expiresAt: now + TOKEN_TTL_S * 1000 });
    this.keepToken(token);
    return { access_token: token, expires_in: TOKEN_TTL_S };
  }

  issueStableToken(body: { grant_type?: string; appid?: string; secret?: string; force_refresh?: boolean }): { access_token: string; expires_in: number } {
    if (body.grant_type !== 'client_credential') throw new WxError(40002, 'invalid grant_type');
    const app = this.appOf(body.appid, body.secret);
    const now = this.now();
    const existing = this.stableTokens.get(app);
    const live = existing && (this.tokens.get(existing.token)?.expiresAt ?? 0) > now;
    if (existing && live && !body.force_refresh) {
      return { access_token: existing.token, expires_in: Math.floor(((this.tokens.get(existing.token)?.expiresAt ?? now) - now) / 1000) };
    }
    if (body.force_refresh) {
      if (existing && now - existing.lastForce < 30_000) throw new WxError(45011, 'api minute-quota reach limit mustslower retry next minute');
      this.consume('stable_token_force', app);
    }
    const token = `sbx_stable_${app}_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { app, expiresAt: now + TOKEN_TTL_S * 1000 });
    this.keepToken(token);
    this.stableTokens.set(app, { token, lastForce: body.force_refresh ? now : (existing?.lastForce ?? 0) });
    this.keepWorld();
    return { access_token: token, expires_in: TOKEN_TTL_S };
  }

  /** Which app a call's access_token belongs to; 41001 / 40001 / 42001 as WeChat answers. */
  authenticate(token: string | undefined, expected?: 'oa' | 'mp'): 'oa' | 'mp' {
    if (!token) throw new WxError(41001, 'access_token missing');
    const t = this.tokens.get(token);
    if (!t) throw new WxError(40001, 'invalid credential, access_token is invalid or not latest');
    if (t.expiresAt <= this.now()) throw new WxError(42001, 'access_token expired');
    if (expected && t.app !== expected) throw new WxError(48001, 'api unauthorized');
    return t.app;
  }

  /** Makes every issued token expired: the next calls get 42001 (tests of the refresh path). */
  expireTokens(): number {
    const now = this.now();
    for (const [t, v] of this.tokens) {
      if (v.expiresAt < now) continue;
      v.expiresAt = now - 1;
      this.keepToken(t);
    }
    return this.tokens.size;
  }

  private appOf(appid: string | undefined, secret: string | undefined): 'oa' | 'mp' {
    const app = appid === this.oa.appid ? 'oa' : appid === this.mp.appid ? 'mp' : undefined;
    if (!app) throw new WxError(40013, 'invalid appid');
    if (secret !== this[app].secret) throw new WxError(40125, 'invalid appsecret');
    return app;
  }

  // Quotas ----------------------------------------------------------------------------------------------------

  /** Counts one use of a daily quota; 45009 when it is spent. */
  /** Calls counted against each quota today (Beijing day), every scope together. */
  usedToday(): Record<string, number> {
    const day = beijingDay(this.now());
    const used: Record<string, number> = {};
    for (const [key, n] of this.counters) {
      const name = key.slice(0, key.indexOf(':'));
      if (key.endsWith(`:${day}`) && name in DEFAULT_QUOTAS) used[name] = (used[name] ?? 0) + n;
    }
    return used;
  }

  consume(name: QuotaName, scope = ''): void {
    const key = `${name}:${scope}:${beijingDay(this.now())}`;
    const used = this.counters.get(key) ?? 0;
    if (used >= this.quotas[name]) {
      throw name === 'mass_send' ? new WxError(45028, 'has no masssend quota') : new WxError(45009, 'reach max api daily quota limit');
    }
    this.counters.set(key, used + 1);
    this.keepCounter(key);
  }

  /** A mass message to one person counts against their 4 a month; false when filtered out. */
  massAllowed(person: Person): boolean {
    const d = new Date(this.now() + 8 * 3600_000);
    const key = `mass_user:${person.id}:${d.getUTCFullYear()}-${d.getUTCMonth()}`;
    const used = this.counters.get(key) ?? 0;
    if (used >= this.quotas.mass_per_user_month) return false;
    this.counters.set(key, used + 1);
    this.keepCounter(key);
    return true;
  }

  /** A client message id seen in the last 24 h (mass send dedupe, 45065). */
  seenClientMsgId(id: string): boolean {
    const now = this.now();
    const at = this.clientMsgIds.get(id);
    if (at !== undefined && now - at < 24 * 3600_000) return true;
    this.clientMsgIds.set(id, now);
    this.state.changed('client_msg', id, () => this.clientMsgIds.get(id));
    return false;
  }

  // Customer-service window -----------------------------------------------------------------------------------

  useWindow(person: Person): void {
    const now = this.now();
    person.windows = person.windows.filter((w) => w.expiresAt > now);
    if (person.windows.length === 0) throw new WxError(45015, 'response out of time limit or subscription is canceled');
    const open = person.windows.filter((w) => w.remaining > 0).sort((a, b) => a.expiresAt - b.expiresAt)[0];
    if (!open) throw new WxError(45047, 'out of response count limit');
    open.remaining -= 1;
    this.keepPerson(person);
  }

  // QR codes --------------------------------------------------------------------------------------------------

  createQrCode(body: { action_name?: string; expire_seconds?: number; action_info?: { scene?: { scene_id?: number; scene_str?: string } } }): QrTicket {
    const action = body.action_name;
    const permanent = action === 'QR_LIMIT_SCENE' || action === 'QR_LIMIT_STR_SCENE';
    const stringScene = action === 'QR_STR_SCENE' || action === 'QR_LIMIT_STR_SCENE';
    if (!action || !['QR_SCENE', 'QR_STR_SCENE', 'QR_LIMIT_SCENE', 'QR_LIMIT_STR_SCENE'].includes(action)) {
      throw new WxError(40053, 'invalid action info, please check document');
    }
    // Leaving out the `scene` wrapper yields scene 0, as on WeChat.
    const sceneObj = body.action_info?.scene;
    let scene: string;
    if (stringScene) {
      const s = sceneObj?.scene_str ?? '';
      if (sceneObj && (typeof s !== 'string' || s.length < 1 || s.length > 64)) throw new WxError(40053, 'invalid action info, scene_str length must be 1-64');
      scene = sceneObj ? s : '0';
    } else {
      const id = sceneObj?.scene_id ?? 0;
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new WxError(40053, 'invalid action info, scene_id');
      if (permanent && sceneObj && (id < 1 || id > MAX_PERMANENT_QR)) throw new WxError(40053, 'invalid action info, scene_id must be 1-100000');
      scene = String(id);
    }
    let expireSeconds: number | undefined;
    if (!permanent) {
      expireSeconds = body.expire_seconds ?? 60;
      if (!Number.isInteger(expireSeconds) || expireSeconds < 1 || expireSeconds > 2_592_000) throw new WxError(40009, 'invalid expire_seconds');
    } else if ([...this.qrcodes.values()].filter((q) => q.permanent).length >= MAX_PERMANENT_QR) {
      throw new WxError(45050, 'permanent qrcode count reach limit');
    }
    this.consume('qrcode_create');
    const ticket = `gQ${randomBytes(30).toString('base64')}`;
    const now = this.now();
    const qr: QrTicket = {
      ticket,
      actionName: action,
      scene,
      permanent,
      url: `http://weixin.qq.com/q/${randomBytes(16).toString('base64url')}`,
      createdAt: now,
      expiresAt: expireSeconds ? now + expireSeconds * 1000 : undefined,
      scans: 0,
    };
    this.qrcodes.set(ticket, qr);
    this.state.changed('qr', ticket, () => this.qrcodes.get(ticket));
    return qr;
  }

  /** A person scanned the code. */
  scanned(qr: QrTicket): void {
    qr.scans++;
    this.state.changed('qr', qr.ticket, () => this.qrcodes.get(qr.ticket));
  }

  liveQrCode(ticket: string): QrTicket | undefined {
    const qr = this.qrcodes.get(ticket);
    if (!qr || (qr.expiresAt !== undefined && qr.expiresAt <= this.now())) return undefined;
    return qr;
  }

  // Tags ------------------------------------------------------------------------------------------------------

  createTag(name: unknown): { id: number; name: string } {
    if (typeof name !== 'string' || name.length === 0) throw new WxError(40003, 'invalid tag name');
    if (Buffer.byteLength(name) > 30) throw new WxError(45158, 'tag name too long');
    if ([...this.tags.values()].some((t) => t.name === name)) throw new WxError(45157, 'invalid tag name');
    if (this.tags.size >= MAX_TAGS) throw new WxError(45056, 'too many tags');
    const tag = { id: this.nextTagId++, name };
    this.tags.set(tag.id, tag);
    this.state.changed('tag', String(tag.id), () => this.tags.get(tag.id));
    this.keepWorld();
    return tag;
  }

  tagging(openids: unknown, tagId: unknown, add: boolean): void {
    if (!Array.isArray(openids) || openids.length === 0 || openids.length > 50) throw new WxError(40032, 'invalid openid list size, at most 50');
    if (typeof tagId !== 'number' || !this.tags.has(tagId)) throw new WxError(45159, 'invalid tag id');
    const people = openids.map((o) => {
      const p = typeof o === 'string' ? this.byOaOpenid(o) : undefined;
      if (!p) throw new WxError(40003, `invalid openid ${String(o)}`);
      return p;
    });
    if (add && people.some((p) => !p.tagIds.has(tagId) && p.tagIds.size >= MAX_TAGS_PER_USER)) throw new WxError(45059, 'user has too many tags');
    for (const p of people) {
      if (add) p.tagIds.add(tagId);
      else p.tagIds.delete(tagId);
      this.keepPerson(p);
    }
  }

  // Login codes -----------------------------------------------------------------------------------------------

  redeemLoginCode(code: string | undefined): Person {
    const entry = code ? this.loginCodes.get(code) : undefined;
    if (!entry || entry.expiresAt <= this.now()) throw new WxError(40029, 'invalid code');
    if (entry.used) throw new WxError(40163, 'code been used');
    entry.used = true;
    this.state.changed('login', code!, () => this.loginCodes.get(code!));
    const p = this.people.get(entry.personId);
    if (!p) throw new WxError(40029, 'invalid code');
    return p;
  }

  /** Uses one acceptance of a one-time subscription; 43101 when there is none. */
  useAcceptance(person: Person, app: 'oa' | 'mp', templateId: string): void {
    const key = `${app}:${templateId}`;
    const n = person.acceptances.get(key) ?? 0;
    if (n < 1) throw new WxError(43101, 'user refuse to accept the msg');
    person.acceptances.set(key, n - 1);
    this.keepPerson(person);
  }
}

export const randomScanNonce = () => String(randomInt(1, 2 ** 31));
