import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { headerOf, sendError, sendJson } from "./http.ts";
import { cookieHeader, randomToken, sameToken, SESSION_COOKIE, SESSION_MS, SIGN_IN_COOKIE, SIGN_IN_MS, type CookieSealer } from "./session.ts";
import type { SignInGitHub } from "./sign-in-github.ts";

export interface SignInDeps {
  /** Null where sign-in is not configured (no GITHUB_CLIENT_ID/SECRET): the routes say so. */
  sealer: CookieSealer | null;
  github: SignInGitHub | null;
  /** The app's public URL (PUBLIC_URL), for the callback GitHub returns to; from the request when unset. */
  publicUrl: string | undefined;
  log: Logger;
  now?: () => number;
}

/** Where GitHub sends a person back after signing in: the app's callback URL (its manifest registers it). */
export const SIGN_IN_CALLBACK_PATH = "/auth/github/callback";
const DASHBOARD = "/dashboard";

/**
 * Signing in with GitHub (the app's own OAuth flow, user-to-server tokens): `/auth/github`
 * sends the person to GitHub with a random state kept in a sealed cookie, the callback
 * checks it, trades the code for the person's token and keeps both in the session cookie,
 * `/auth/session` tells the page who is signed in (and its CSRF token), `/auth/logout`
 * ends the session. False for any other path.
 */
export function createSignInHandler(deps: SignInDeps) {
  const now = deps.now ?? Date.now;
  const available = deps.sealer !== null && deps.github !== null;
  return async function handleSignIn(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith("/auth/")) return false;
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /auth/session") {
      const session = deps.sealer?.openSession(req, now()) ?? null;
      sendJson(res, 200, { sign_in_available: available, user: session ? { login: session.login, id: session.id } : null, csrf_token: session?.csrf ?? null });
      return true;
    }
    if (!["GET /auth/github", `GET ${SIGN_IN_CALLBACK_PATH}`, "POST /auth/logout"].includes(route)) {
      sendError(res, 404, "no such endpoint");
      return true;
    }
    if (!deps.sealer || !deps.github) {
      sendError(res, 404, "sign-in with GitHub is not set up on this server: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (README: Dashboard)");
      return true;
    }
    const secure = isSecure(req, deps.publicUrl);
    if (route === "GET /auth/github") {
      const state = randomToken();
      const returnTo = safeReturnPath(url.searchParams.get("return_to"));
      res.writeHead(302, {
        location: deps.github.authorizeUrl(state, callbackUrl(req, deps.publicUrl)),
        "set-cookie": cookieHeader(SIGN_IN_COOKIE, deps.sealer.sealSignIn({ state, returnTo, expiresAt: now() + SIGN_IN_MS }), { secure, maxAgeMs: SIGN_IN_MS }),
        "cache-control": "no-store",
      });
      res.end();
      return true;
    }
    if (route === "POST /auth/logout") {
      const session = deps.sealer.openSession(req, now());
      // A page on another site cannot set this header: signing someone out takes the page's own token.
      if (session && !sameToken(headerOf(req, "x-csrf-token"), session.csrf)) {
        sendError(res, 403, "missing or wrong x-csrf-token");
        return true;
      }
      res.writeHead(204, { "set-cookie": cookieHeader(SESSION_COOKIE, null, { secure, maxAgeMs: 0 }), "cache-control": "no-store" }).end();
      return true;
    }
    await finishSignIn(req, res, url, deps, { secure, now: now() });
    return true;
  };
}

async function finishSignIn(req: IncomingMessage, res: ServerResponse, url: URL, deps: SignInDeps, at: { secure: boolean; now: number }): Promise<void> {
  const signIn = deps.sealer!.openSignIn(req, at.now);
  const clearSignIn = cookieHeader(SIGN_IN_COOKIE, null, { secure: at.secure, maxAgeMs: 0 });
  const refuse = (status: number, message: string) => {
    res.setHeader("set-cookie", clearSignIn);
    sendError(res, status, message);
  };
  const code = url.searchParams.get("code");
  // The state GitHub hands back must be the one this browser was sent with: a callback forged by another site (login CSRF) has none.
  if (!signIn || !sameToken(url.searchParams.get("state") ?? undefined, signIn.state)) return refuse(400, "the sign-in expired or did not start here: open the dashboard and sign in again");
  if (url.searchParams.get("error") === "access_denied") return refuse(403, "you did not authorize the app on GitHub: open the dashboard and sign in again to use it");
  if (!code || code.length > 200) return refuse(400, "GitHub returned no code: open the dashboard and sign in again");
  let token: Awaited<ReturnType<SignInGitHub["exchangeCode"]>>;
  let user: { login: string; id: number };
  try {
    token = await deps.github!.exchangeCode(code, callbackUrl(req, deps.publicUrl));
    if (!token) return refuse(400, "GitHub refused the sign-in code (used already, or expired): open the dashboard and sign in again");
    user = await deps.github!.userOf(token.token);
  } catch (error) {
    deps.log.warn({ err: error }, "signing in with GitHub failed");
    return refuse(502, "GitHub could not be reached to finish signing in: try again in a moment");
  }
  const expiresAt = Math.min(at.now + SESSION_MS, token.expiresAt?.getTime() ?? Infinity);
  const session = deps.sealer!.sealSession({ login: user.login, id: user.id, token: token.token, csrf: randomToken(), expiresAt });
  res.writeHead(302, {
    location: signIn.returnTo,
    "set-cookie": [clearSignIn, cookieHeader(SESSION_COOKIE, session, { secure: at.secure, maxAgeMs: expiresAt - at.now })],
    "cache-control": "no-store",
  });
  res.end();
}

/** Where the callback sends the person: a path of the dashboard only, never another site (no open redirect). */
export function safeReturnPath(text: string | null): string {
  if (text === null || text.length > 500) return DASHBOARD;
  return /^\/dashboard(?:[/?#][^\s\\]*)?$/.test(text) && !text.includes("//") ? text : DASHBOARD;
}

function callbackUrl(req: IncomingMessage, publicUrl: string | undefined): string {
  if (publicUrl) return new URL(SIGN_IN_CALLBACK_PATH, publicUrl).toString();
  const proto = isSecure(req, undefined) ? "https" : "http";
  return `${proto}://${req.headers.host ?? "localhost"}${SIGN_IN_CALLBACK_PATH}`;
}

/** Cookies are Secure when the app is reached over TLS: its public URL says https, or the proxy in front of it does. */
function isSecure(req: IncomingMessage, publicUrl: string | undefined): boolean {
  if (publicUrl) return publicUrl.startsWith("https:");
  return headerOf(req, "x-forwarded-proto") === "https" || "encrypted" in req.socket;
}
