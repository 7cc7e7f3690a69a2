import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";

const DASHBOARD_HTML = readFileSync(new URL("./dashboard.html", import.meta.url), "utf8");
/** Its own script and style only (by hash), and requests to this origin only. */
const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${hashesOf(DASHBOARD_HTML, "script")}`,
  `style-src ${hashesOf(DASHBOARD_HTML, "style")} 'unsafe-hashes'`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** `GET /dashboard`: the page holds no data: it reads the API like any client. False for any other request. */
export function serveDashboard(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  if (url.pathname !== "/dashboard" || req.method !== "GET") return false;
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": DASHBOARD_CSP }).end(DASHBOARD_HTML);
  return true;
}

function hashesOf(html: string, tag: "script" | "style"): string {
  const bodies = [...html.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, "g"))].map((match) => match[1]!);
  // Inline style attributes count too (hashed like blocks, allowed by 'unsafe-hashes').
  const attributes = tag === "style" ? [...html.matchAll(/ style="([^"]*)"/g)].map((match) => match[1]!) : [];
  return [...bodies, ...attributes].map((body) => `'sha256-${createHash("sha256").update(body).digest("base64")}'`).join(" ");
}
