/**
 * The API as the page calls it. A person signed in with GitHub is known by the session
 * cookie, and every write carries the session's CSRF token; without a session, the API
 * token pasted into the page (kept for this tab only) goes as a bearer token, the way
 * operators and machines call the API.
 */

/** @typedef {import("./types.js").Session} Session */

const TOKEN_KEY = "running-agent-token";

/** @type {{ token: string, session: Session | null }} */
const auth = { token: sessionStorage.getItem(TOKEN_KEY) ?? "", session: null };
/** @type {Set<() => void>} */
const authListeners = new Set();
/** @type {Set<(error: ApiError) => void>} */
const refusalListeners = new Set();

/** A refused or failed API call, with the API's own words (`error`) and, for a 422, its `problems`. */
export class ApiError extends Error {
  /**
   * @param {number} status 0 when the server could not be reached
   * @param {string} message
   * @param {Array<{ path: Array<string | number>, message: string }>} [problems]
   */
  constructor(status, message, problems = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problems = problems;
  }
}

/** Who the page is calling as, right now. */
export function authState() {
  return { token: auth.token, session: auth.session, signedIn: Boolean(auth.session?.user) };
}

/** Whether any call can succeed: a signed-in person or a pasted token. */
export const hasCredentials = () => Boolean(auth.session?.user) || auth.token !== "";

/** @param {string} token the API token, or "" to forget it */
export function setToken(token) {
  auth.token = token.trim();
  if (auth.token) sessionStorage.setItem(TOKEN_KEY, auth.token);
  else sessionStorage.removeItem(TOKEN_KEY);
  for (const listener of authListeners) listener();
}

/** @param {Session | null} session */
export function setSession(session) {
  auth.session = session;
  for (const listener of authListeners) listener();
}

/** Called whenever who the page calls as changes. @param {() => void} listener */
export function onAuthChange(listener) {
  authListeners.add(listener);
}

/** Called on every 401: the token was refused or the session ended. @param {(error: ApiError) => void} listener */
export function onRefused(listener) {
  refusalListeners.add(listener);
}

/**
 * The headers a request needs: the bearer token without a session, the CSRF token on writes with one.
 * @param {string} method
 * @returns {Record<string, string>}
 */
export function authHeaders(method) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (auth.session?.user) {
    if (method !== "GET" && auth.session.csrf_token) headers["x-csrf-token"] = auth.session.csrf_token;
  } else if (auth.token) {
    headers.authorization = `Bearer ${auth.token}`;
  }
  return headers;
}

/**
 * Call the API; the parsed JSON body, or an ApiError saying why not. An aborted call rejects
 * with the AbortError, which callers leaving a page ignore.
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const method = options.method ?? "GET";
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json", ...authHeaders(method) };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  /** @type {Response} */
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(0, "The server cannot be reached: check your connection, or whether the app is running.");
  }
  const payload = await jsonOf(response);
  if (response.ok) return payload;
  const error = new ApiError(response.status, messageOf(response.status, payload), Array.isArray(payload?.problems) ? payload.problems : []);
  if (response.status === 401) for (const listener of refusalListeners) listener(error);
  throw error;
}

/**
 * An endpoint this server may not have yet (an older version): its body, or null when the
 * path is not served at all, so the page shows the part as not available instead of failing.
 * @param {string} path
 * @param {{ signal?: AbortSignal }} [options]
 */
export async function optionalApi(path, options = {}) {
  try {
    return await api(path, options);
  } catch (error) {
    if (error instanceof ApiError && isMissingEndpoint(error.status)) return null;
    throw error;
  }
}

/** 404 no such endpoint; 405 and 501 from proxies; 418 from the tests' API server for paths it does not serve. @param {number} status */
const isMissingEndpoint = (status) => status === 404 || status === 405 || status === 418 || status === 501;

/** @param {Response} response */
async function jsonOf(response) {
  if (response.status === 204) return null;
  const text = await response.text().catch(() => "");
  if (!(response.headers.get("content-type") ?? "").includes("json")) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The API's own words when it gave them; otherwise what the status means.
 * @param {number} status
 * @param {any} payload
 */
function messageOf(status, payload) {
  if (payload && typeof payload.error === "string") {
    if (status === 401) return refusalMessage(payload.error);
    if (status === 403) return `Not allowed: ${payload.error}`;
    return payload.error;
  }
  if (status === 401) return refusalMessage(null);
  if (status === 403) return "Not allowed: you lack write access to this repository.";
  if (status >= 500) return `The server failed to answer (HTTP ${status}). Try again in a moment.`;
  return `The server answered HTTP ${status}.`;
}

/** @param {string | null} detail */
function refusalMessage(detail) {
  if (auth.session?.user) return "Your session has ended: sign in again.";
  if (auth.token) return "The API token was refused: it does not match the server's API_TOKEN.";
  return detail ?? "Sign in, or paste the API token, to see the jobs.";
}
