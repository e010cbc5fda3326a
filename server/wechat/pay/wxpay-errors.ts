import { AppError, type ErrorKind } from '../../infra/errors';

/**
 * A WeChat Pay call that did not succeed: WeChat's own error (`wxCode`, e.g. ORDERPAID, NOT_ENOUGH),
 * an unreachable or slow API, or an answer whose signature did not verify (never trusted).
 */
export class WxPayError extends AppError {
  override name = 'WxPayError';
  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    readonly httpStatus?: number,
    readonly wxCode?: string,
  ) {
    super(kind, code, message, wxCode ? { wxCode, httpStatus } : undefined);
  }
}

/** WeChat's HTTP status says what kind of failure it is; the code keeps WeChat's name for it. */
export function wxPayApiError(httpStatus: number, wxCode: string | undefined, wxMessage: string | undefined): WxPayError {
  const kind: ErrorKind =
    httpStatus === 400 ? 'invalid'
    : httpStatus === 403 ? 'forbidden'
    : httpStatus === 404 ? 'not_found'
    : httpStatus === 409 ? 'conflict'
    : httpStatus === 429 ? 'rate_limited'
    : 'unavailable';
  const code = `wxpay_${(wxCode ?? `http_${httpStatus}`).toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  return new WxPayError(kind, code, `WeChat Pay answered ${httpStatus} ${wxCode ?? ''}: ${wxMessage ?? 'no message'}`.trim(), httpStatus, wxCode);
}
