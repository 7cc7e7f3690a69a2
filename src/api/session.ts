import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { z } from "zod";

/** The signed-in person's cookie. */
export const SESSION_COOKIE = "ra_session";
/** The OAuth flow's state, from the redirect to GitHub until the callback. */
export const SIGN_IN_COOKIE = "ra_sign_in";

/** A session lasts as long as GitHub's user-to-server token does by default: 8 hours. */
export const SESSION_MS = 8 * 3_600_000;
/** Time to come back from GitHub's sign-in page. */
export const SIGN_IN_MS = 10 * 60_000;

const sessionSchema = z.object({
  login: z.string(),
  id: z.number().int(),
  /** The person's user-to-server token: what they may see is asked of GitHub with it. */
  token: z.string(),
  /** Sent back in `x-csrf-token` by the page with every request that changes something. */
  csrf: z.string(),
  expiresAt: z.number(),
});
export type Session = z.infer<typeof sessionSchema>;

const signInSchema = z.object({ state: z.string(), returnTo: z.string(), expiresAt: z.number() });
export type SignIn = z.infer<typeof signInSchema>;

/**
 * Cookies sealed with AES-256-GCM: the browser holds them, but can neither read (the
 * token is inside) nor alter them, and any web process with the same secret opens them —
 * no session table, nothing to share but the secret. `purpose` is bound in as associated
 * data, so one kind of cookie is never accepted as the other.
 */
export function createCookieSealer(secret: string) {
  const key = Buffer.from(hkdfSync("sha256", secret, "running-agent", "cookies v1", 32));
  const seal = (purpose: string, value: unknown): string => {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
  };
  const open = (purpose: string, text: string | undefined): unknown => {
    if (!text || text.length > 8_192) return null;
    const bytes = Buffer.from(text, "base64url");
    if (bytes.length < 12 + 16 + 2) return null;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12)).setAAD(Buffer.from(purpose));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return JSON.parse(Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString("utf8")) as unknown;
    } catch {
      return null;
    }
  };
  return {
    sealSession: (session: Session) => seal(SESSION_COOKIE, session),
    /** The session in the request's cookie; null when there is none, it was tampered with, or it expired. */
    openSession(req: IncomingMessage, now = Date.now()): Session | null {
      const parsed = sessionSchema.safeParse(open(SESSION_COOKIE, readCookie(req, SESSION_COOKIE)));
      return parsed.success && parsed.data.expiresAt > now ? parsed.data : null;
    },
    sealSignIn: (signIn: SignIn) => seal(SIGN_IN_COOKIE, signIn),
    openSignIn(req: IncomingMessage, now = Date.now()): SignIn | null {
      const parsed = signInSchema.safeParse(open(SIGN_IN_COOKIE, readCookie(req, SIGN_IN_COOKIE)));
      return parsed.success && parsed.data.expiresAt > now ? parsed.data : null;
    },
  };
}

export type CookieSealer = ReturnType<typeof createCookieSealer>;

/** A cookie's value from the request's `Cookie` header. */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const index = part.indexOf("=");
    if (index !== -1 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** `Set-Cookie` for a value (or, with null, for removing it): HttpOnly, SameSite=Lax, Secure over TLS. */
export function cookieHeader(name: string, value: string | null, options: { secure: boolean; maxAgeMs: number }): string {
  const attributes = [`${name}=${value ?? ""}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${value === null ? 0 : Math.floor(options.maxAgeMs / 1_000)}`];
  if (options.secure) attributes.push("Secure");
  return attributes.join("; ");
}

/** A fresh random token (the OAuth state, a session's CSRF token). */
export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Constant-time equality of two tokens. */
export function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const [a, b] = [Buffer.from(given), Buffer.from(expected)];
  return a.length === b.length && timingSafeEqual(a, b);
}
