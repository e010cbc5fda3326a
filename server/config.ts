import { isIP } from 'node:net';
import dotenv from 'dotenv';
import { z } from 'zod';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => (v === '' ? undefined : ['true', '1', 'yes'].includes(v)))
  .optional();

const postgresUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional()
  .refine((v) => v === undefined || /^postgres(ql)?:\/\/[^\s]+$/.test(v), 'must be a postgres:// URL');

const redisUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional()
  .refine((v) => v === undefined || /^rediss?:\/\/[^\s]*$/.test(v), 'must be a redis:// URL');

/**
 * TRUST_PROXY: whose X-Forwarded-For to believe. Off (`false`, empty): the address is the TCP peer's and the header is
 * ignored. A hop count (`1`): that many proxies in front. Addresses or CIDRs (or `loopback`, `linklocal`,
 * `uniquelocal`), comma-separated: only a peer among them may name the client. `true` believes any peer.
 */
export type TrustProxy = boolean | number | readonly string[];
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const isProxyAddress = (v: string) => {
  if (PROXY_RANGES.has(v)) return true;
  const [addr, bits, ...rest] = v.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};
const trustProxy = z
  .string()
  .trim()
  .optional()
  .transform((v, ctx): TrustProxy => {
    if (v === undefined || v === '' || v === 'false' || v === '0') return false;
    if (v === 'true') return true;
    if (/^\d{1,2}$/.test(v)) return Number(v);
    const list = v.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = list.find((x) => !isProxyAddress(x));
    if (bad !== undefined || list.length === 0) {
      ctx.addIssue({ code: 'custom', message: `must be false, true, a hop count or comma-separated proxy addresses/CIDRs (not "${bad ?? v}")` });
      return z.NEVER;
    }
    return Object.freeze(list);
  });

// ---- WeChat Pay (APIv3) -------------------------------------------------------------------------------------
const wxpayEnv = {
  WXPAY_MCHID: optionalString.refine((v) => v === undefined || /^\d{8,12}$/.test(v), 'must be the merchant number (digits)'),
  WXPAY_SERIAL_NO: optionalString.refine((v) => v === undefined || /^[0-9A-Fa-f]{8,64}$/.test(v), 'must be the hex serial of the merchant API certificate'),
  WXPAY_PRIVATE_KEY: optionalString,
  WXPAY_APIV3_KEY: optionalString.refine((v) => v === undefined || Buffer.byteLength(v) === 32, 'must be exactly 32 characters'),
  WXPAY_PUBLIC_KEY: optionalString,
  WXPAY_PUBLIC_KEY_ID: optionalString.refine((v) => v === undefined || /^PUB_KEY_ID_[0-9A-Za-z_]+$/.test(v), 'must start with PUB_KEY_ID_'),
  WXPAY_PLATFORM_CERTS: optionalString,
  WXPAY_API_BASE: z.url().optional().or(z.literal('').transform(() => undefined)),
  /** Sandbox only: 1 = WeChat's real notification retry schedule and refund delay; 0.001 for tests. */
  WXPAY_SANDBOX_TIME_SCALE: z.coerce.number().positive().max(1000).default(1),
};

/**
 * `live`: real credentials (all four merchant values, plus the WeChat Pay public key and/or platform certificates).
 * `sandbox`: no WeChat Pay credentials outside production; keys are generated under DATA_DIR and calls go to the
 * sandbox. `off`: production without credentials; payments are unavailable.
 */
export type WxPayConfig =
  | {
      readonly mode: 'live';
      readonly mchid: string;
      readonly serialNo: string;
      /** PEM text or a file path, read at boot. */
      readonly privateKey: string;
      readonly apiV3Key: string;
      readonly publicKey?: { readonly id: string; readonly pem: string };
      readonly platformCerts?: string;
      readonly apiBase: string;
    }
  | { readonly mode: 'sandbox'; readonly apiBase: string; readonly timeScale: number }
  | { readonly mode: 'off' };

function wxpayConfig(e: z.output<typeof envSchema>, publicUrl: string): WxPayConfig {
  const merchant = { WXPAY_MCHID: e.WXPAY_MCHID, WXPAY_SERIAL_NO: e.WXPAY_SERIAL_NO, WXPAY_PRIVATE_KEY: e.WXPAY_PRIVATE_KEY, WXPAY_APIV3_KEY: e.WXPAY_APIV3_KEY };
  const given = Object.entries(merchant).filter(([, v]) => v !== undefined);
  const anyKey = given.length > 0 || e.WXPAY_PUBLIC_KEY || e.WXPAY_PUBLIC_KEY_ID || e.WXPAY_PLATFORM_CERTS;
  if (!anyKey) {
    if (e.NODE_ENV === 'production') return { mode: 'off' };
    return { mode: 'sandbox', apiBase: (e.WXPAY_API_BASE ?? `${publicUrl}/sandbox/pay`).replace(/\/$/, ''), timeScale: e.WXPAY_SANDBOX_TIME_SCALE };
  }
  const missing = Object.entries(merchant).filter(([, v]) => v === undefined).map(([k]) => k);
  if (missing.length > 0) throw new ConfigError(`Invalid configuration: ${missing.join(', ')} required with the other WXPAY_ variables`);
  if (Boolean(e.WXPAY_PUBLIC_KEY) !== Boolean(e.WXPAY_PUBLIC_KEY_ID)) {
    throw new ConfigError('Invalid configuration: WXPAY_PUBLIC_KEY and WXPAY_PUBLIC_KEY_ID go together');
  }
  if (!e.WXPAY_PUBLIC_KEY && !e.WXPAY_PLATFORM_CERTS) {
    throw new ConfigError('Invalid configuration: WXPAY_PUBLIC_KEY (+ WXPAY_PUBLIC_KEY_ID) or WXPAY_PLATFORM_CERTS is required to verify WeChat Pay');
  }
  if (e.NODE_ENV === 'production' && !publicUrl.startsWith('https://')) {
    throw new ConfigError('Invalid configuration: PUBLIC_URL must be https in production (WeChat Pay posts notifications only to https)');
  }
  return {
    mode: 'live',
    mchid: e.WXPAY_MCHID!,
    serialNo: e.WXPAY_SERIAL_NO!.toUpperCase(),
    privateKey: e.WXPAY_PRIVATE_KEY!,
    apiV3Key: e.WXPAY_APIV3_KEY!,
    publicKey: e.WXPAY_PUBLIC_KEY ? { id: e.WXPAY_PUBLIC_KEY_ID!, pem: e.WXPAY_PUBLIC_KEY } : undefined,
    platformCerts: e.WXPAY_PLATFORM_CERTS,
    apiBase: (e.WXPAY_API_BASE ?? 'https://api.mch.weixin.qq.com').replace(/\/$/, ''),
  };
}
// ---- end WeChat Pay ---------------------------------------------------------------------------------------------

/** Every environment variable Snowball reads; `.env.example` documents each. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url().optional().or(z.literal('').transform(() => undefined)),
  DATABASE_URL: postgresUrl,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: redisUrl,
  DATA_DIR: z.string().trim().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  ADMIN_USERNAME: optionalString,
  ADMIN_PASSWORD: optionalString.refine((v) => v === undefined || v.length >= 10, 'must be at least 10 characters'),
  ADMIN_SESSION_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(12),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  TRUST_PROXY: trustProxy,
  METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  METRICS_PORT: z.union([z.literal('').transform(() => undefined), z.coerce.number().int().min(0).max(65535)]).optional(),
  QUEUE_ENABLED: booleanFlag,
  ...wxpayEnv,
  BRAND_NAME: z.string().trim().min(1).max(30).default('雪球小店'),
  UPLOADS_DIR: optionalString,
  WECHAT_APPID: optionalString.refine((v) => v === undefined || /^wx[0-9a-zA-Z]{16}$/.test(v), 'must look like wx followed by 16 characters'),
  WECHAT_SECRET: optionalString,
  WECHAT_TOKEN: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9]{3,32}$/.test(v), 'must be 3–32 letters or digits'),
  WECHAT_AES_KEY: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9]{43}$/.test(v), 'must be 43 letters or digits (the EncodingAESKey)'),
  WECHAT_AES_KEY_PREVIOUS: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9]{43}$/.test(v), 'must be 43 letters or digits'),
  MP_APPID: optionalString.refine((v) => v === undefined || /^wx[0-9a-zA-Z]{16}$/.test(v), 'must look like wx followed by 16 characters'),
  MP_SECRET: optionalString,
  WECHAT_API_BASE: z.url().optional().or(z.literal('').transform(() => undefined)),
  SANDBOX: booleanFlag,
  /** Seed a demo shop on the first start in sandbox mode; default on, off under NODE_ENV=test. */
  DEMO_SEED: booleanFlag,
  WECHAT_CALLBACK_MAX_AGE_S: z.coerce.number().int().min(0).max(86_400).default(300),
  MEMBER_DATA_KEY: optionalString.refine((v) => v === undefined || v.length >= 16, 'must be at least 16 characters'),
  POINTS_PER_YUAN: z.coerce.number().int().min(0).max(1000).default(1),
  POINTS_EXPIRY: z
    .string()
    .trim()
    .regex(/^(end_of_next_year|never|\d{1,5}d)$/, 'must be end_of_next_year, never or <days>d')
    .default('end_of_next_year'),
  IMPORT_KEEP_FILES: booleanFlag,
  IMPORT_MAX_MB: z.coerce.number().int().min(1).max(20_000).default(2048),
  MP_SESSION_DAYS: z.coerce.number().int().min(1).max(90).default(30),
  STORE_SHIPPING_FEN: z.coerce.number().int().min(0).max(100_000).default(1000),
  STORE_FREE_SHIPPING_OVER_FEN: z.coerce.number().int().min(0).default(9900),
  STORE_POINT_VALUE_FEN: z.coerce.number().int().min(1).max(100).default(1),
  STORE_POINTS_MAX_PERCENT: z.coerce.number().int().min(0).max(100).default(50),
  STORE_UNPAID_MINUTES: z.coerce.number().int().min(5).max(120).default(30),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
  readonly databaseUrl?: string;
  readonly databasePoolSize: number;
  readonly redisUrl?: string;
  readonly dataDir: string;
  readonly logLevel: string;
  /** LOG_FORMAT: `pretty` lines for a person, `json` for machines; `auto` is pretty only when stdout is a terminal. */
  readonly logFormat: 'auto' | 'pretty' | 'json';
  readonly admin?: { readonly username: string; readonly password: string };
  readonly adminSessionHours: number;
  readonly rateLimitPerMinute: number;
  /** Whose X-Forwarded-For names the client (TRUST_PROXY); false: the TCP peer is the client. */
  readonly trustProxy: TrustProxy;
  readonly metrics: MetricsConfig;
  /** Off only for short-lived tools (migrate, admin:create) that must not consume jobs. */
  readonly queueEnabled: boolean;
  readonly wxpay: WxPayConfig;
  /** Temporary: WeChat Pay's own sandbox switch until the shared SANDBOX flag lands. */
  readonly wxpaySandbox: boolean;
  /** The shop's name as buyers see it: insert cards, welcome replies. */
  readonly brandName: string;
  /** Review screenshots and other uploads; default DATA_DIR/uploads. */
  readonly uploadsDir: string;
  readonly wechat: WechatConfig;
  /** Sandbox mode only: seed the demo shop on the first start (DEMO_SEED). */
  readonly demoSeed: boolean;
  /** Key of the keyed hash under which phone numbers are stored and matched. */
  readonly memberDataKey: string;
  readonly pointsPerYuan: number;
  /** end_of_next_year | never | <days>d */
  readonly pointsExpiry: string;
  readonly importKeepFiles: boolean;
  readonly importMaxBytes: number;
  /** Lifetime of a mini-program session token. */
  readonly mpSessionDays: number;
  readonly store: {
    readonly shippingFen: number;
    readonly freeShippingOverFen: number;
    readonly pointValueFen: number;
    readonly pointsMaxPercent: number;
    readonly unpaidMinutes: number;
  };
}

/**
 * Where Prometheus metrics are served. `listen` (METRICS_PORT, METRICS_HOST): a listener of their own, and not on the
 * public port. `token` (METRICS_TOKEN): every /metrics answer needs `Authorization: Bearer <token>`. With neither,
 * /metrics is open on the public port in development and test, and not served in production.
 */
export interface MetricsConfig {
  readonly token?: string;
  readonly listen?: { readonly host: string; readonly port: number };
  /** /metrics is answered on the app's own port. */
  readonly onAppPort: boolean;
}

/** The WeChat accounts as configured; in sandbox mode what is absent is made up once (server/wechat/credentials.ts). */
export interface WechatConfig {
  /** The simulator is mounted at /sandbox and every WeChat call goes to it. */
  readonly sandbox: boolean;
  readonly appid?: string;
  readonly secret?: string;
  readonly token?: string;
  readonly aesKey?: string;
  readonly aesKeyPrevious?: string;
  readonly mpAppid?: string;
  readonly mpSecret?: string;
  /** Where the OA and mini-program APIs live: https://api.weixin.qq.com, or the sandbox. */
  readonly apiBase: string;
  /** Seconds a callback's timestamp may be away from now; 0 turns the check off. */
  readonly callbackMaxAgeSeconds: number;
}

/** Development and test only: production must set MEMBER_DATA_KEY (phone hashes would be guessable otherwise). */
const DEV_MEMBER_DATA_KEY = 'snowball-development-member-key';

/** Reads `.env` into process.env (never overriding what is set); called by the process and the CLIs, not by tests. */
export function loadDotenv(): void {
  dotenv.config({ quiet: true });
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses an environment into one frozen, typed config; throws a one-line ConfigError naming the variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.') || 'environment';
    const received = source[name as keyof typeof source];
    const shown = received === undefined ? '' : ` (got "${redactValue(name, received)}")`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${shown}`);
  }
  const e = parsed.data;
  if (e.ADMIN_USERNAME && !e.ADMIN_PASSWORD) {
    throw new ConfigError('Invalid configuration: ADMIN_PASSWORD is required when ADMIN_USERNAME is set');
  }
  const sandbox = e.SANDBOX ?? !e.WECHAT_APPID;
  if (sandbox && e.NODE_ENV === 'production') {
    throw new ConfigError(
      'Invalid configuration: SANDBOX is refused when NODE_ENV=production; set WECHAT_APPID, WECHAT_SECRET, WECHAT_TOKEN (and WECHAT_AES_KEY, MP_APPID, MP_SECRET) of the real accounts',
    );
  }
  if (!sandbox) {
    for (const name of ['WECHAT_APPID', 'WECHAT_SECRET', 'WECHAT_TOKEN'] as const) {
      if (!e[name]) throw new ConfigError(`Invalid configuration: ${name} is required when SANDBOX is off`);
    }
  }
  if (!!e.MP_APPID !== !!e.MP_SECRET) throw new ConfigError('Invalid configuration: MP_APPID and MP_SECRET are set together');
  if (e.WECHAT_AES_KEY_PREVIOUS && !e.WECHAT_AES_KEY) {
    throw new ConfigError('Invalid configuration: WECHAT_AES_KEY_PREVIOUS needs WECHAT_AES_KEY (the current key)');
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${e.PORT}`).replace(/\/$/, '');
  const wxpay = wxpayConfig(e, publicUrl);
  if (e.NODE_ENV === 'production' && !e.MEMBER_DATA_KEY) {
    throw new ConfigError('Invalid configuration: MEMBER_DATA_KEY is required in production (the key phone numbers are hashed with)');
  }
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    admin: e.ADMIN_USERNAME && e.ADMIN_PASSWORD ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD } : undefined,
    adminSessionHours: e.ADMIN_SESSION_HOURS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    trustProxy: e.TRUST_PROXY,
    metrics: Object.freeze({
      token: e.METRICS_TOKEN,
      listen: e.METRICS_PORT === undefined ? undefined : Object.freeze({ host: e.METRICS_HOST, port: e.METRICS_PORT }),
      onAppPort: e.METRICS_PORT === undefined && (e.METRICS_TOKEN !== undefined || e.NODE_ENV !== 'production'),
    }),
    queueEnabled: e.QUEUE_ENABLED ?? true,
    wxpay,
    wxpaySandbox: wxpay.mode === 'sandbox',
    brandName: e.BRAND_NAME,
    uploadsDir: e.UPLOADS_DIR ?? `${e.DATA_DIR.replace(/\/$/, '')}/uploads`,
    wechat: Object.freeze({
      sandbox,
      appid: e.WECHAT_APPID,
      secret: e.WECHAT_SECRET,
      token: e.WECHAT_TOKEN,
      aesKey: e.WECHAT_AES_KEY,
      aesKeyPrevious: e.WECHAT_AES_KEY_PREVIOUS,
      mpAppid: e.MP_APPID,
      mpSecret: e.MP_SECRET,
      apiBase: (e.WECHAT_API_BASE ?? (sandbox ? `${publicUrl}/sandbox` : 'https://api.weixin.qq.com')).replace(/\/$/, ''),
      callbackMaxAgeSeconds: e.WECHAT_CALLBACK_MAX_AGE_S,
    }),
    demoSeed: sandbox && (e.DEMO_SEED ?? e.NODE_ENV !== 'test'),
    memberDataKey: e.MEMBER_DATA_KEY ?? DEV_MEMBER_DATA_KEY,
    pointsPerYuan: e.POINTS_PER_YUAN,
    pointsExpiry: e.POINTS_EXPIRY,
    importKeepFiles: e.IMPORT_KEEP_FILES ?? false,
    importMaxBytes: e.IMPORT_MAX_MB * 1024 * 1024,
    mpSessionDays: e.MP_SESSION_DAYS,
    store: Object.freeze({
      shippingFen: e.STORE_SHIPPING_FEN,
      freeShippingOverFen: e.STORE_FREE_SHIPPING_OVER_FEN,
      pointValueFen: e.STORE_POINT_VALUE_FEN,
      pointsMaxPercent: e.STORE_POINTS_MAX_PERCENT,
      unpaidMinutes: e.STORE_UNPAID_MINUTES,
    }),
  };
  return Object.freeze(config);
}

function redactValue(name: string, value: string): string {
  if (/PASSWORD|SECRET|KEY|TOKEN/.test(name)) return '***';
  return value.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}
