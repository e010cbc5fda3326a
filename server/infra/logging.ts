import type { LoggerOptions } from 'pino';

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

export function loggerOptions(level: string): LoggerOptions {
  return {
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
