// The admin API client: the admin token is asked for once and kept in session storage.

const KEY = 'hookmap.adminToken';

/** An error answer of the admin API: status, code, message and the field it names. */
export class ApiError extends Error {
  constructor(status, code, message, path) {
    super(message);
    this.status = status;
    this.code = code;
    this.path = path;
  }
}

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

/** Calls the admin API; resolves to the JSON answer, rejects with an ApiError. */
export async function api(method, path, body) {
  const headers = {Authorization: `Bearer ${token() || ''}`};
  const init = {method, headers};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', `the server cannot be reached (${e.message})`);
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = (json && json.error) || {};
    if (response.status === 401) {
      setToken(null);
      window.dispatchEvent(new Event('hookmap:unauthorized'));
    }
    throw new ApiError(response.status, error.code || 'error', error.message || response.statusText, error.path);
  }
  return json;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
