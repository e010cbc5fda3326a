import { config } from '../config';
import type { LoginResult } from '../models/api-types';
import { messageForError } from './error-messages';
import { clearSession, getToken, savePrivacyState, saveSession } from './session';

// The only caller of wx.request in the mini-program.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RequestOptions {
  method?: HttpMethod;
  data?: Record<string, unknown> | unknown[];
  // false for the few calls made before a session exists (login itself).
  auth?: boolean;
  // A write's Idempotency-Key, for a caller that keeps one per logical operation across its own retries. Without it
  // the wrapper keeps one per write (method, path and body) until the server answers it.
  idempotencyKey?: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface RawResponse {
  status: number;
  body: unknown;
}

const SESSION_CODES = new Set(['missing_token', 'invalid_session', 'session_expired']);
const REQUEST_TIMEOUT_MS = 15_000;

let loginInFlight: Promise<LoginResult> | null = null;
const writesInFlight = new Map<string, Promise<unknown>>();
// Writes sent and not yet answered (a timeout, a network failure, a server error): the write may have been applied,
// so sending it again (a re-tap) reuses its key and the server applies it once. A definite answer lets the key go.
const unansweredKeys = new Map<string, string>();
let keyCounter = 0;

// Unique enough per member and device; the server scopes keys to the member.
export function newIdempotencyKey(): string {
  keyCounter = (keyCounter + 1) % 1_000_000;
  const random = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0');
  return `${Date.now().toString(36)}-${keyCounter.toString(36)}-${random}`;
}

function send(method: HttpMethod, path: string, data: unknown, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    wx.request({
      url: `${config.apiBaseUrl}${path}`,
      method,
      data: data as WechatMiniprogram.IAnyObject | undefined,
      header: { 'content-type': 'application/json', ...headers },
      timeout: REQUEST_TIMEOUT_MS,
      dataType: 'json',
      success: (res) => resolve({ status: res.statusCode, body: res.data }),
      fail: (err) => {
        const code = /timeout/i.test(err.errMsg) ? 'timeout' : 'network_error';
        reject(new ApiError(code, 0, messageForError(code, 0)));
      },
    });
  });
}

function errorFrom(res: RawResponse): ApiError {
  const body = (res.body && typeof res.body === 'object' ? res.body : {}) as { code?: unknown };
  const code = typeof body.code === 'string' ? body.code : `http_${res.status}`;
  return new ApiError(code, res.status, messageForError(code, res.status));
}

function wxLoginCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res.code ? resolve(res.code) : reject(new ApiError('login_failed', 0, messageForError('login_failed', 0)))),
      fail: () => reject(new ApiError('login_failed', 0, messageForError('login_failed', 0))),
    });
  });
}

async function performLogin(): Promise<LoginResult> {
  const code = await wxLoginCode();
  const res = await send('POST', '/api/mp/login', { code }, {});
  if (res.status !== 200) throw errorFrom(res);
  const result = res.body as LoginResult;
  saveSession(result.token, result.expiresAt);
  savePrivacyState(result.privacy);
  return result;
}

// wx.login + POST /api/mp/login; concurrent callers share one login.
export function login(): Promise<LoginResult> {
  if (!loginInFlight) {
    loginInFlight = performLogin().finally(() => {
      loginInFlight = null;
    });
  }
  return loginInFlight;
}

async function ensureToken(): Promise<string> {
  const token = getToken();
  if (token) return token;
  return (await login()).token;
}

// After a refused token: log in again, unless a parallel request already replaced that token.
async function freshToken(refused: string): Promise<string> {
  if (loginInFlight) return (await loginInFlight).token;
  const current = getToken();
  if (current && current !== refused) return current;
  clearSession();
  return (await login()).token;
}

async function execute<T>(method: HttpMethod, path: string, options: RequestOptions, write?: string): Promise<T> {
  const headers: Record<string, string> = {};
  // One key per logical write: the retry after a re-login, and a re-tap after no answer, replay the same key.
  if (write !== undefined) {
    const key = options.idempotencyKey ?? unansweredKeys.get(write) ?? newIdempotencyKey();
    if (!options.idempotencyKey) unansweredKeys.set(write, key);
    headers['Idempotency-Key'] = key;
  }
  const auth = options.auth !== false;
  const usedToken = auth ? await ensureToken() : '';
  if (auth) headers.Authorization = `Bearer ${usedToken}`;

  // wx.request always sends content-type JSON; an empty JSON body is refused by the server, so writes send {}.
  const data = method === 'GET' ? options.data : (options.data ?? {});
  let res = await send(method, path, data, headers);
  if (auth && res.status === 401 && SESSION_CODES.has(errorFrom(res).code)) {
    headers.Authorization = `Bearer ${await freshToken(usedToken)}`;
    res = await send(method, path, data, headers);
  }
  // Answered: applied or refused for good. A 5xx leaves it open, like no answer at all.
  if (write !== undefined && res.status < 500) unansweredKeys.delete(write);
  if (res.status === 401) clearSession();
  if (res.status < 200 || res.status >= 300) throw errorFrom(res);
  return (res.status === 204 ? undefined : res.body) as T;
}

export function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  if (method === 'GET') return execute<T>(method, path, options);
  // Double-tap guard: the same write while the first is still on its way joins it instead of sending again.
  const guardKey = `${method} ${path} ${JSON.stringify(options.data ?? null)}`;
  const pending = writesInFlight.get(guardKey);
  if (pending) return pending as Promise<T>;
  const promise = execute<T>(method, path, options, guardKey).finally(() => writesInFlight.delete(guardKey));
  writesInFlight.set(guardKey, promise);
  return promise;
}

function uploadOnce(path: string, filePath: string, name: string, formData: Record<string, string>, token: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    wx.uploadFile({
      url: `${config.apiBaseUrl}${path}`,
      filePath,
      name,
      formData,
      header: { Authorization: `Bearer ${token}`, 'Idempotency-Key': newIdempotencyKey() },
      timeout: REQUEST_TIMEOUT_MS,
      success: (res) => {
        let body: unknown = res.data;
        try {
          body = JSON.parse(res.data);
        } catch {
          // Not JSON: kept as text, the status decides.
        }
        resolve({ status: res.statusCode, body });
      },
      fail: (err) => {
        const code = /timeout/i.test(err.errMsg) ? 'timeout' : 'network_error';
        reject(new ApiError(code, 0, messageForError(code, 0)));
      },
    });
  });
}

// A multipart upload (wx.uploadFile) with the member's session; logs in again once if the session was refused.
export async function upload<T>(path: string, filePath: string, name: string, formData: Record<string, string>): Promise<T> {
  const token = await ensureToken();
  let res = await uploadOnce(path, filePath, name, formData, token);
  if (res.status === 401 && SESSION_CODES.has(errorFrom(res).code)) res = await uploadOnce(path, filePath, name, formData, await freshToken(token));
  if (res.status === 401) clearSession();
  if (res.status < 200 || res.status >= 300) throw errorFrom(res);
  return res.body as T;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return messageForError('unknown', 0);
}
