import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";

/**
 * The dashboard's files (src/dashboard/): a page, its ES modules, its style sheet and icon,
 * served as they are (no build step). They hold no data: the page reads the API like any
 * client, so they are served without a token.
 */
const FOLDER = new URL("../dashboard/", import.meta.url);
const PAGE = "index.html";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * Only the page's own files, nothing inline (no script or style in the HTML, no style
 * attribute), requests to this origin only: task texts and logs are written by outsiders
 * and the agent, and whatever slipped through as markup could run nothing.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Read once at start, by name: a request names one of these or gets a 404, so no path
 * (`..`, an encoded slash) can reach any other file.
 */
const ASSETS: ReadonlyMap<string, Asset> = new Map(
  readdirSync(FOLDER)
    .filter((name) => /^[a-z0-9-]+\.(html|js|css|svg)$/.test(name))
    .map((name) => {
      const body = readFileSync(new URL(name, FOLDER));
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
      return [name, { body, type: CONTENT_TYPES[path.extname(name)]!, etag }] as const;
    }),
);

/** The names served under `/dashboard/`, for tests. */
export const DASHBOARD_ASSET_NAMES: readonly string[] = [...ASSETS.keys()].filter((name) => name !== PAGE).sort();

/**
 * `GET /dashboard` (the page) and `GET /dashboard/<file>` (its files); false for any other path.
 */
export function serveDashboard(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const { pathname } = url;
  if (pathname !== "/dashboard" && !pathname.startsWith("/dashboard/")) return false;
  const name = pathname === "/dashboard" || pathname === "/dashboard/" ? PAGE : pathname.slice("/dashboard/".length);
  const asset = ASSETS.get(name);
  const headers = { "content-security-policy": DASHBOARD_CSP, "x-content-type-options": "nosniff", "referrer-policy": "same-origin" };
  if (!asset) {
    res.writeHead(404, { ...headers, "content-type": "text/plain; charset=utf-8" }).end("no such file\n");
    return true;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...headers, allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
    return true;
  }
  // A new version of the app serves new files under the same names: the browser asks again each time (304 when unchanged).
  const caching = { "cache-control": "no-cache", etag: asset.etag };
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, { ...headers, ...caching }).end();
    return true;
  }
  res.writeHead(200, { ...headers, ...caching, "content-type": asset.type, "content-length": asset.body.length });
  res.end(req.method === "HEAD" ? undefined : asset.body);
  return true;
}
