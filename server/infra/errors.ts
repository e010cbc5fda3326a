/** The small, fixed set of error kinds; each maps to one HTTP status. */
export const errorStatus = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
} as const;

export type ErrorKind = keyof typeof errorStatus;

/**
 * An expected business outcome ("already checked in today", "order not found").
 * `code` is stable: the mini-program and the console switch on it.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get statusCode(): number {
    return errorStatus[this.kind];
  }
}

export const invalid = (code: string, message: string, details?: unknown) => new AppError('invalid', code, message, details);
export const unauthorized = (code: string, message: string) => new AppError('unauthorized', code, message);
export const forbidden = (code: string, message: string) => new AppError('forbidden', code, message);
export const notFound = (code: string, message: string) => new AppError('not_found', code, message);
export const conflict = (code: string, message: string, details?: unknown) => new AppError('conflict', code, message, details);
export const rateLimited = (code: string, message: string, details?: unknown) => new AppError('rate_limited', code, message, details);
export const unavailable = (code: string, message: string) => new AppError('unavailable', code, message);

/** True when a database error is a unique violation, optionally on one named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e?.code ?? e?.driverError?.code;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}
