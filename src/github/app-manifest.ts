import type { IncomingHttpHeaders } from "node:http";
import { SIGN_IN_CALLBACK_PATH } from "../api/sign-in-routes.ts";

/** Where the web role takes GitHub's webhook deliveries: the registered app points here. */
export const WEBHOOK_PATH = "/api/github/webhooks";
/** Where GitHub sends the browser back, with a code, once it has registered the app. */
export const SETUP_REDIRECT_PATH = "/probot/setup";

export interface ManifestTarget {
  /** The URL this server was reached at (`baseUrlOf`), without a trailing slash. */
  baseUrl: string;
  /** A webhook proxy channel (smee.io) to register instead of this server, when set. */
  webhookProxyUrl: string | undefined;
}

/**
 * The manifest GitHub registers the app from: app.yml says what the app is (name,
 * permissions, events); where it is reached is never in app.yml, since Probot spreads
 * app.yml over the URLs it computes and a URL there sent every registered app's
 * webhooks to it. So the webhook and the redirect are set here, last.
 */
export function buildAppManifest(appYml: Record<string, unknown>, target: ManifestTarget): Record<string, unknown> {
  const hookAttributes = isRecord(appYml.hook_attributes) ? appYml.hook_attributes : {};
  return {
    ...appYml,
    hook_attributes: { ...hookAttributes, url: target.webhookProxyUrl ?? `${target.baseUrl}${WEBHOOK_PATH}` },
    redirect_url: `${target.baseUrl}${SETUP_REDIRECT_PATH}`,
    // Signing in to the dashboard with GitHub comes back here; installing the app asks no sign-in.
    callback_urls: [`${target.baseUrl}${SIGN_IN_CALLBACK_PATH}`],
    request_oauth_on_install: false,
  };
}

// A host name or an IPv4 or bracketed IPv6 address, and a port; bounded, so linear on any header.
const HOST = /^(?:[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,126}|\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?$/i;

/**
 * The URL the browser reached this server at, as Probot's setup page works it out: the
 * Host header, or X-Forwarded-Host and X-Forwarded-Proto when a proxy in front sets them.
 * Null for a Host that is no host name (it would end up inside a URL GitHub calls).
 */
export function baseUrlOf(headers: IncomingHttpHeaders): string | null {
  const host = firstOf(headers["x-forwarded-host"]) ?? headers.host;
  if (!host || host.length > 300 || !HOST.test(host)) return null;
  const protocol = firstOf(headers["x-forwarded-proto"])?.toLowerCase() === "https" ? "https" : "http";
  return `${protocol}://${host.toLowerCase()}`;
}

/** Whether a Host header names this machine by a loopback name or address, whatever the port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host || !HOST.test(host)) return false;
  const name = host.toLowerCase().replace(/:\d+$/, "");
  return name === "localhost" || name === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The first of a header's values (`a, b`, or repeated headers), trimmed; undefined when empty. */
function firstOf(value: string | string[] | undefined): string | undefined {
  const first = (Array.isArray(value) ? value[0] : value)?.split(",")[0]?.trim();
  return first ? first : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
