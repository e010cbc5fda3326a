import { AppError, type ErrorKind } from '../infra/errors';

/** What a WeChat errcode means for the caller: retry later, ask the user first, give up. */
export type WechatErrorKind =
  | 'quota' // 45009 daily quota, 45028 no mass-send quota, 45011 per-minute quota
  | 'out_of_window' // 45015 outside the reply window, 45047 too many messages in it
  | 'not_following' // 43004 the user does not follow the account
  | 'user_refused' // 43101 the user has not accepted (or used up) this subscription
  | 'invalid_token' // 40001 / 42001 after one refresh
  | 'invalid_code' // 40029 invalid, 40163 already used login code
  | 'invalid_request'
  | 'unavailable';

const KINDS: Record<number, WechatErrorKind> = {
  45009: 'quota',
  45011: 'quota',
  45028: 'quota',
  45015: 'out_of_window',
  45047: 'out_of_window',
  43004: 'not_following',
  43101: 'user_refused',
  40001: 'invalid_token',
  42001: 'invalid_token',
  40014: 'invalid_token',
  40029: 'invalid_code',
  40163: 'invalid_code',
  [-1]: 'unavailable',
};

const HTTP: Record<WechatErrorKind, ErrorKind> = {
  quota: 'rate_limited',
  out_of_window: 'conflict',
  not_following: 'conflict',
  user_refused: 'forbidden',
  invalid_token: 'unavailable',
  invalid_code: 'invalid',
  invalid_request: 'invalid',
  unavailable: 'unavailable',
};

/** A WeChat API answer with a non-zero errcode; `code` is stable (wechat_quota …) and `errcode` is WeChat's. */
export class WechatApiError extends AppError {
  override name = 'WechatApiError';
  constructor(
    readonly wechatKind: WechatErrorKind,
    readonly errcode: number,
    readonly errmsg: string,
    readonly api: string,
  ) {
    super(HTTP[wechatKind], `wechat_${wechatKind}`, `WeChat ${api} failed: ${errcode} ${errmsg}`, { errcode });
  }
}

export function wechatError(errcode: number, errmsg: string, api: string): WechatApiError {
  const kind = KINDS[errcode] ?? (errcode >= 40000 && errcode < 50000 ? 'invalid_request' : 'unavailable');
  return new WechatApiError(kind, errcode, errmsg, api);
}

export const isWechatError = (err: unknown, kind?: WechatErrorKind): err is WechatApiError =>
  err instanceof WechatApiError && (kind === undefined || err.wechatKind === kind);
