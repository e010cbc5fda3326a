import type { LoggerOptions } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, DestinationStream } from 'pino';
import pinoPretty from 'pino-pretty';

/** Query parameters that carry secrets in WeChat-style URLs; never logged in clear. */
const SECRET_QUERY = /([?&](?:access_token|secret|js_code|code|signature|msg_signature|echostr|token|password|ticket)=)[^&]*/gi;

/** 11-digit mainland mobile numbers anywhere in a string → 138****6392. */
export function maskPhone(text: string): string {
  return text.replace(/(?<!\d)((?:\+?86)?1[3-9]\d)(\d{4})(\d{4})(?!\d)/g, '$1****$3');
}

export function redactUrl(url: string): string {
  return maskPhone(url.replace(SECRET_QUERY, '$1***'));
}

const REDACT_KEYS = [
  'password',
  'passwordHash',
  'secret',
  'token',
  'accessToken',
  'access_token',
  'session_key',
  'sessionKey',
  'apiKey',
  'privateKey',
  'phone',
  'mobile',
  'receiverPhone',
  'encodingAesKey',
];

/**
 * Whether the log is written as readable lines: LOG_FORMAT=pretty, or `auto` when stdout is a terminal (`npm start`
 * by hand). Piped or redirected (CI, containers, log collectors, tests) it stays one JSON object a line.
 */
export function prettyLogs(format: 'auto' | 'pretty' | 'json', stdoutIsTerminal: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTerminal);
}

/**
 * Readable lines (time, level, message, then the fields) written synchronously to stdout, so nothing logged before a
 * process.exit is lost. Colours only when stdout is a terminal. What is redacted is redacted before it gets here.
 */
export function prettyStream(): DestinationStream {
  return pinoPretty({ sync: true, destination: 1, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

export function loggerOptions(level: string, opts: { pretty?: boolean } = {}): LoggerOptions & { stream?: DestinationStream } {
  return {
    ...(opts.pretty ? { stream: prettyStream() } : {}),
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        'res.headers["set-cookie"]',
        ...REDACT_KEYS,
        ...REDACT_KEYS.map((k) => `*.${k}`),
        ...REDACT_KEYS.map((k) => `*.*.${k}`),
      ],
      censor: '***',
    },
    serializers: {
      req(req: { method: string; url: string; id?: string; ip?: string }) {
        return { method: req.method, url: redactUrl(req.url), id: req.id, ip: req.ip };
      },
      err(err: Error & { code?: string; statusCode?: number }) {
        return { type: err.name, message: maskPhone(err.message ?? ''), code: err.code, stack: err.stack };
      },
    },
  };
}

type LogMethod = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * A request logger that becomes a real pino child only when something is logged at its level. Creating a child
 * redacts and serialises its bindings on every request; on a quiet route (the WeChat callback logs warnings only)
 * most requests log nothing, so they never pay for it.
 */
class LazyRequestLogger {
  private real: FastifyBaseLogger | undefined;
  private readonly threshold: number;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {
    this.threshold = LEVEL_VALUES[opts.level ?? parent.level] ?? 30;
  }

  get level(): string {
    return this.real?.level ?? this.opts.level ?? this.parent.level;
  }

  set level(level: string) {
    this.materialize().level = level;
  }

  private materialize(): FastifyBaseLogger {
    return (this.real ??= this.parent.child(this.bindings, this.opts));
  }

  private write(method: LogMethod, args: unknown[]): void {
    if (!this.real && LEVEL_VALUES[method]! < this.threshold) return;
    (this.materialize()[method] as (...a: unknown[]) => void)(...args);
  }

  // Methods on the prototype, not arrow fields: one logger is made per request, and most are never used.
  trace(...args: unknown[]) {
    this.write('trace', args);
  }
  debug(...args: unknown[]) {
    this.write('debug', args);
  }
  info(...args: unknown[]) {
    this.write('info', args);
  }
  warn(...args: unknown[]) {
    this.write('warn', args);
  }
  error(...args: unknown[]) {
    this.write('error', args);
  }
  fatal(...args: unknown[]) {
    this.write('fatal', args);
  }
  silent() {
    return undefined;
  }
  child(bindings: Bindings, opts?: ChildLoggerOptions) {
    return this.materialize().child(bindings, opts);
  }
}

/** Fastify's childLoggerFactory: request loggers are created lazily (see LazyRequestLogger). */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, opts) as unknown as FastifyBaseLogger;
}
