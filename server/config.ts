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
  ADMIN_USERNAME: optionalString,
  ADMIN_PASSWORD: optionalString.refine((v) => v === undefined || v.length >= 10, 'must be at least 10 characters'),
  ADMIN_SESSION_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(12),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  QUEUE_ENABLED: booleanFlag,
  BRAND_NAME: z.string().trim().min(1).max(30).default('雪球小店'),
  UPLOADS_DIR: optionalString,
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
  readonly admin?: { readonly username: string; readonly password: string };
  readonly adminSessionHours: number;
  readonly rateLimitPerMinute: number;
  /** Off only for short-lived tools (migrate, admin:create) that must not consume jobs. */
  readonly queueEnabled: boolean;
  /** The shop's name as buyers see it: insert cards, welcome replies. */
  readonly brandName: string;
  /** Review screenshots and other uploads; default DATA_DIR/uploads. */
  readonly uploadsDir: string;
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
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${e.PORT}`).replace(/\/$/, ''),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
    admin: e.ADMIN_USERNAME && e.ADMIN_PASSWORD ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD } : undefined,
    adminSessionHours: e.ADMIN_SESSION_HOURS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    queueEnabled: e.QUEUE_ENABLED ?? true,
    brandName: e.BRAND_NAME,
    uploadsDir: e.UPLOADS_DIR ?? `${e.DATA_DIR.replace(/\/$/, '')}/uploads`,
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
