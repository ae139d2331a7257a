// One way to call the API: JSON in and out, the session cookie, the CSRF header on unsafe
// methods, and failures as values (never thrown) so callers decide what "offline" means.
import type { Problem } from './types';

export const CSRF_COOKIE = 'fieldcrm_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; problem: Problem | null; retryAfterMs: number | null }
  /** status 0: no answer (offline, DNS, connection refused, aborted). */
  | { ok: false; status: 0; problem: null; retryAfterMs: null; network: true };

export interface ApiOptions {
  base?: string;
  fetch?: typeof fetch;
  /** The CSRF token to echo; the page reads the cookie. */
  csrf?: () => string | null;
  timeoutMs?: number;
}

export interface Api {
  get<T>(path: string): Promise<ApiResult<T>>;
  post<T>(path: string, body?: unknown): Promise<ApiResult<T>>;
  /** Any method; a Blob body goes as it is (with its type), anything else as JSON. */
  send<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>>;
}

/** The value of a cookie the page can read (the CSRF cookie is not HttpOnly on purpose). */
export function readCookie(name: string, source: string = globalThis.document?.cookie ?? ''): string | null {
  for (const part of source.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return null;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createApi(options: ApiOptions = {}): Api {
  const base = options.base ?? '';
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const csrf = options.csrf ?? (() => readCookie(CSRF_COOKIE));
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function request<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const raw = typeof Blob !== 'undefined' && body instanceof Blob;
    if (raw) headers['Content-Type'] = body.type || 'application/octet-stream';
    else if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (!SAFE.has(method)) {
      const token = csrf();
      if (token) headers[CSRF_HEADER] = token;
    }
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), timeoutMs) : null;
    let response: Response;
    try {
      response = await doFetch(base + path, {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
        signal: controller?.signal ?? null,
      });
    } catch {
      return { ok: false, status: 0, problem: null, retryAfterMs: null, network: true };
    } finally {
      if (timer) clearTimeout(timer);
    }
    let parsed: unknown = null;
    const text = await response.text().catch(() => '');
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (response.ok) return { ok: true, status: response.status, data: parsed as T };
    const problem = parsed && typeof parsed === 'object' ? (parsed as Problem) : null;
    return { ok: false, status: response.status, problem, retryAfterMs: parseRetryAfter(response.headers.get('Retry-After')) };
  }

  return {
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    send: (method, path, body) => request(method, path, body),
  };
}
