/**
 * `npm start` without APP_ID: the page that registers the GitHub App from app.yml through
 * GitHub's manifest flow and writes its credentials to .env. It replaces Probot's setup
 * app, whose manifest let app.yml's placeholder URL win over this server's and which
 * writes credentials to .env for anyone who posts them (`/probot/import`).
 *
 * Longer than most files: the page, the code exchange and the guards around them are one
 * flow, each step needing the state of the one before.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { updateEnvFile } from "../config/env-file.ts";
import { baseUrlOf, buildAppManifest, isLoopbackHost, SETUP_REDIRECT_PATH, WEBHOOK_PATH } from "./app-manifest.ts";

export interface SetupServerOptions {
  host: string;
  /** 0 for any free port. */
  port: number;
  log: Logger;
  /**
   * Answer only requests whose Host names this machine: a web page elsewhere could
   * otherwise reach a loopback server through DNS rebinding and complete the flow.
   */
  loopbackOnly: boolean;
  /** The app's description: name, permissions, events (app.yml). */
  appYmlPath: string;
  /** Where the credentials go (.env, read at the next start). */
  envFile: string;
  /** GitHub's web address (`https://github.com`, or the Enterprise Server's). */
  githubUrl: string;
  /** GitHub's REST API, where the code from the flow is exchanged for the credentials. */
  githubApiUrl: string;
  /** Register the app for this organization instead of the signed-in user (GH_ORG). */
  org: string | undefined;
  /** Registered as the webhook URL instead of this server (WEBHOOK_PROXY_URL). */
  webhookProxyUrl: string | undefined;
}

export interface SetupServer {
  /** The port it listens on (the one the kernel chose for 0). */
  port: number;
  stop(): Promise<void>;
}

/** What GitHub answers to the code: the new app and its secrets. */
const conversion = z.object({
  id: z.number().int().positive(),
  slug: z.string().optional(),
  html_url: z.url(),
  pem: z.string().min(1),
  webhook_secret: z.string().min(1),
  // The app's OAuth client: people sign in to the dashboard with it.
  client_id: z.string().min(1).optional(),
  client_secret: z.string().min(1).optional(),
});
const CODE = /^[A-Za-z0-9_-]{1,200}$/;

export async function startSetupServer(options: SetupServerOptions): Promise<SetupServer> {
  const log = options.log.child({ name: "setup" });
  // GitHub hands this back with the code: a code that comes without it was not asked for by this page.
  const state = randomBytes(16).toString("hex");
  let registered = false;

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://setup.invalid");
    if (req.method === "GET" && url.pathname === "/ping") return sendText(res, 200, "PONG");
    if (options.loopbackOnly && !isLoopbackHost(req.headers.host)) {
      return sendText(res, 403, "The setup page answers only at localhost or 127.0.0.1. To serve it on another address, set HOST (HOST=0.0.0.0 for all).");
    }
    if (req.method !== "GET") return sendText(res, 405, "method not allowed");
    if (url.pathname === "/") {
      res.writeHead(302, { location: "/probot" }).end();
      return;
    }
    if (url.pathname === "/probot") return showSetupPage(req, res);
    if (url.pathname === SETUP_REDIRECT_PATH) return exchangeCode(url, res);
    sendText(res, 404, "not found");
  };

  function showSetupPage(req: IncomingMessage, res: ServerResponse): void {
    const baseUrl = baseUrlOf(req.headers);
    if (!baseUrl) return sendText(res, 400, "The Host header is not a host name.");
    const manifest = buildAppManifest(readAppYml(options.appYmlPath), { baseUrl, webhookProxyUrl: options.webhookProxyUrl });
    const createAppUrl = `${options.githubUrl}${options.org ? `/organizations/${encodeURIComponent(options.org)}` : ""}/settings/apps/new?state=${state}`;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(setupPage(manifest, createAppUrl));
  }

  async function exchangeCode(url: URL, res: ServerResponse): Promise<void> {
    if (registered) return sendText(res, 409, "The app is registered and its credentials are in .env: install it on a repository, then restart `npm start`.");
    const code = url.searchParams.get("code") ?? "";
    if (!CODE.test(code)) return sendText(res, 400, "The code from GitHub is missing or malformed.");
    if (url.searchParams.get("state") !== state) return sendText(res, 400, "This registration was not started from this setup page (its state does not match): open /probot and register from there.");
    const response = await fetch(`${options.githubApiUrl}/app-manifests/${code}/conversions`, {
      method: "POST",
      headers: { accept: "application/vnd.github+json", "user-agent": "running-agent-setup" },
    });
    const app = conversion.safeParse(response.ok ? await response.json() : null);
    if (!app.success) {
      log.warn({ status: response.status }, "GitHub did not exchange the manifest code for the app's credentials");
      return sendText(res, 502, `GitHub did not exchange the code (HTTP ${response.status}): codes expire after an hour and work once; register again from /probot.`);
    }
    const client: Record<string, string> = app.data.client_id && app.data.client_secret ? { GITHUB_CLIENT_ID: app.data.client_id, GITHUB_CLIENT_SECRET: app.data.client_secret } : {};
    updateEnvFile(options.envFile, { APP_ID: String(app.data.id), PRIVATE_KEY: app.data.pem, WEBHOOK_SECRET: app.data.webhook_secret, ...client });
    registered = true;
    log.info({ appId: app.data.id, slug: app.data.slug, envFile: options.envFile }, `registered the GitHub App and wrote APP_ID, PRIVATE_KEY, WEBHOOK_SECRET${"GITHUB_CLIENT_ID" in client ? " and its OAuth client (dashboard sign-in)" : ""}: install it on a repository, then restart \`npm start\``);
    res.writeHead(302, { location: `${app.data.html_url}/installations/new` }).end();
  }

  const server = createServer((req, res) => {
    answer(req, res).catch((error: unknown) => {
      log.error({ err: error }, "the setup page failed");
      if (!res.headersSent) sendText(res, 500, "The setup page failed; see the server's log.");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function readAppYml(path: string): Record<string, unknown> {
  // Read at each request, as Probot did: an edit to app.yml shows without a restart.
  const parsed: unknown = parseYaml(readFileSync(path, "utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`${path} is not a YAML mapping`);
  return parsed as Record<string, unknown>;
}

function setupPage(manifest: Record<string, unknown>, createAppUrl: string): string {
  const hook = (manifest.hook_attributes as { url: string }).url;
  const name = typeof manifest.name === "string" ? manifest.name : "the app";
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Register ${escapeHtml(name)}</title></head>
<body>
<h1>Register ${escapeHtml(name)} as a GitHub App</h1>
<p>GitHub will send the app's webhooks to <code>${escapeHtml(hook)}</code>. GitHub must be able to reach that URL; if it cannot
(this page was opened at an address only you can reach), open this page at the server's public address, set WEBHOOK_PROXY_URL,
or change the webhook URL in the app's settings on GitHub afterwards.</p>
<form action="${escapeHtml(createAppUrl)}" method="post">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">
<button type="submit">Register the GitHub App</button>
</form>
<p>GitHub then brings you back here; the app's id, private key and webhook secret are written to .env.
Install the app on a repository and restart <code>npm start</code>.</p>
<p>To use an app you registered already, set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET yourself; its webhook URL is <code>https://&lt;this server&gt;${WEBHOOK_PATH}</code>.</p>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
}
