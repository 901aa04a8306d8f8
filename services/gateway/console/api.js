// Every data call of the console: relative to the page (so a path prefix works), with the API key from
// sessionStorage only (gone when the tab closes; never in localStorage, a cookie or a URL).
const KEY_STORAGE = 'argus.console.apiKey';
const REVIEWER_STORAGE = 'argus.console.reviewer';

export const session = {
  key: () => sessionStorage.getItem(KEY_STORAGE),
  setKey: (key) => sessionStorage.setItem(KEY_STORAGE, key),
  reviewer: () => sessionStorage.getItem(REVIEWER_STORAGE),
  setReviewer: (name) => sessionStorage.setItem(REVIEWER_STORAGE, name),
  clear: () => {
    sessionStorage.removeItem(KEY_STORAGE);
    sessionStorage.removeItem(REVIEWER_STORAGE);
  },
};

/** A problem+json answer (RFC 9457) as an error: `status`, `code`, `detail` and the trace id. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code;
    this.traceId = problem.traceId;
    this.problem = problem;
  }
}

function headers(extra = {}) {
  const key = session.key();
  return key ? { 'X-API-Key': key, ...extra } : extra;
}

export function apiUrl(path) {
  return new URL(path, document.baseURI).toString();
}

async function fail(response) {
  const type = response.headers.get('content-type') || '';
  const problem = type.includes('json') ? await response.json() : { detail: await response.text() };
  throw new ApiError(response.status, problem);
}

/** JSON in and out; `body` may be FormData (multipart) or a plain object (sent as JSON). */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const init = { method, signal, headers: headers() };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = headers({ 'content-type': 'application/json' });
  }
  const response = await fetch(apiUrl(path), init);
  if (!response.ok) await fail(response);
  return response.json();
}

/** An image behind the key: an <img src> cannot send a header, so fetch it and show it as a blob: URL. */
export async function imageBlobUrl(path, signal) {
  const response = await fetch(apiUrl(path), { headers: headers(), signal });
  if (!response.ok) await fail(response);
  return URL.createObjectURL(await response.blob());
}

export function percent(value) {
  return typeof value === 'number' ? `${Math.round(value * 100)}%` : '–';
}

export function age(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 129600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
