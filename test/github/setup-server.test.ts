/**
 * The setup page's manifest flow in-process, GitHub's side played by nock: what is
 * registered, what lands in .env, and the requests it refuses (a code it did not ask for,
 * a page elsewhere reaching it through DNS rebinding).
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { parseEnv } from "node:util";
import nock from "nock";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.ts";
import { startSetupServer, type SetupServer, type SetupServerOptions } from "../../src/github/setup-server.ts";
import { testPrivateKey } from "../support/github-fixtures.ts";

const APP_YML = path.resolve(import.meta.dirname, "../../app.yml");
const EARLIER_ENV = "# my settings\nLOG_LEVEL=debug\nAPP_ID=\n";

let dir: string;
let envFile: string;
let server: SetupServer | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "ra-setup-"));
  envFile = path.join(dir, ".env");
  writeFileSync(envFile, EARLIER_ENV);
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  nock.cleanAll();
  nock.enableNetConnect();
  await rm(dir, { recursive: true, force: true });
});

async function start(overrides: Partial<SetupServerOptions> = {}): Promise<string> {
  server = await startSetupServer({
    host: "127.0.0.1",
    port: 0,
    log: pino({ level: "silent" }),
    loopbackOnly: true,
    appYmlPath: APP_YML,
    envFile,
    githubUrl: "https://github.com",
    githubApiUrl: "https://api.github.com",
    org: undefined,
    webhookProxyUrl: undefined,
    ...overrides,
  });
  return `127.0.0.1:${server.port}`;
}

/** A GET with the Host header we choose (fetch sets its own), and any other headers. */
function get(pathAndQuery: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; location: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server!.port, path: pathAndQuery, headers: { ...headers, host } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, location: res.headers.location, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The form the page shows: where it posts, and the manifest it posts (as the browser decodes it). */
function formOf(html: string): { action: string; manifest: Record<string, unknown> } {
  const decode = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
  const action = /<form action="([^"]*)"/.exec(html)?.[1];
  const value = /name="manifest" value="([^"]*)"/.exec(html)?.[1];
  if (action === undefined || value === undefined) throw new Error(`no manifest form in:\n${html}`);
  return { action: decode(action), manifest: JSON.parse(decode(value)) as Record<string, unknown> };
}

describe("the setup page", () => {
  it("registers the app from app.yml with this server's webhook URL and writes its credentials to .env", async () => {
    const host = await start();
    const page = await get("/probot", host);
    expect(page.status).toBe(200);
    const { action, manifest } = formOf(page.body);
    expect(manifest.hook_attributes).toEqual({ url: `http://${host}/api/github/webhooks` });
    expect(manifest.redirect_url).toBe(`http://${host}/probot/setup`);
    expect(manifest).toMatchObject({ name: "Running Agent", default_events: expect.arrayContaining(["issue_comment"]) });
    const state = new URL(action).searchParams.get("state")!;
    expect(action).toBe(`https://github.com/settings/apps/new?state=${state}`);

    // GitHub registered the app and sent the browser back with a code and our state.
    const pem = testPrivateKey();
    const exchange = nock("https://api.github.com")
      .post("/app-manifests/code-from-github/conversions")
      .reply(201, { id: 424242, slug: "running-agent-dev", html_url: "https://github.com/apps/running-agent-dev", pem, webhook_secret: "whsec-0123456789", client_id: "Iv1.x", client_secret: "client-secret-for-sign-in" });
    const back = await get(`/probot/setup?code=code-from-github&state=${state}`, host);
    expect(back.status).toBe(302);
    expect(back.location).toBe("https://github.com/apps/running-agent-dev/installations/new");
    expect(exchange.isDone()).toBe(true);

    const written = readFileSync(envFile, "utf8");
    expect(written.startsWith("# my settings\nLOG_LEVEL=debug\n")).toBe(true);
    expect(parseEnv(written)).toEqual({ LOG_LEVEL: "debug", APP_ID: "424242", PRIVATE_KEY: pem, WEBHOOK_SECRET: "whsec-0123456789", GITHUB_CLIENT_ID: "Iv1.x", GITHUB_CLIENT_SECRET: "client-secret-for-sign-in" });
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    // The next `npm start` reads them as the app's credentials.
    expect(loadConfig(parseEnv(written)).app).toEqual({ appId: 424242, privateKey: pem, webhookSecret: "whsec-0123456789" });

    // Done once: a second code is not exchanged, and .env stays as written.
    const again = await get(`/probot/setup?code=another-code&state=${state}`, host);
    expect(again.status).toBe(409);
    expect(readFileSync(envFile, "utf8")).toBe(written);
  });

  it("registers for GH_ORG on GitHub Enterprise, and the webhook proxy's channel when WEBHOOK_PROXY_URL is set", async () => {
    const host = await start({ githubUrl: "https://ghe.example.com", org: "my-org", webhookProxyUrl: "https://smee.io/channel-1" });
    const { action, manifest } = formOf((await get("/probot", host)).body);
    expect(action).toMatch(/^https:\/\/ghe\.example\.com\/organizations\/my-org\/settings\/apps\/new\?state=[0-9a-f]{32}$/);
    expect(manifest.hook_attributes).toEqual({ url: "https://smee.io/channel-1" });
    expect(manifest.redirect_url).toBe(`http://${host}/probot/setup`);
  });

  it("exchanges no code it did not ask for: without this page's state, nothing reaches GitHub or .env", async () => {
    const host = await start();
    for (const query of ["code=attacker-code", "code=attacker-code&state=guessed", "state=x", "code=../../user&state=x"]) {
      const response = await get(`/probot/setup?${query}`, host);
      expect([query, response.status]).toEqual([query, 400]);
    }
    expect(readFileSync(envFile, "utf8")).toBe(EARLIER_ENV);
  });

  it("says so when GitHub refuses the code, and writes nothing", async () => {
    const host = await start();
    const state = new URL(formOf((await get("/probot", host)).body).action).searchParams.get("state")!;
    nock("https://api.github.com").post("/app-manifests/expired/conversions").reply(404, { message: "Not Found" });
    const response = await get(`/probot/setup?code=expired&state=${state}`, host);
    expect(response.status).toBe(502);
    expect(response.body).toContain("expire");
    expect(readFileSync(envFile, "utf8")).toBe(EARLIER_ENV);
  });

  it("answers a web page that reached it through DNS rebinding (another Host) with 403, showing no state", async () => {
    const host = await start();
    const port = host.split(":")[1];
    for (const path of ["/probot", "/probot/setup?code=c&state=s", "/"]) {
      const response = await get(path, `rebind.attacker.example:${port}`);
      expect([path, response.status]).toEqual([path, 403]);
      expect(response.body).not.toMatch(/state=/);
    }
    expect((await get("/probot", `localhost:${port}`)).status).toBe(200);
    expect(readFileSync(envFile, "utf8")).toBe(EARLIER_ENV);
  });

  it("serves any Host when HOST was set (behind a proxy), and builds the URLs from what the proxy forwards", async () => {
    await start({ loopbackOnly: false });
    const direct = await get("/probot", "agent.internal:3000");
    expect(direct.status).toBe(200);
    expect(formOf(direct.body).manifest.hook_attributes).toEqual({ url: "http://agent.internal:3000/api/github/webhooks" });

    const proxied = formOf((await get("/probot", "10.0.0.7:3000", { "x-forwarded-host": "agent.example.org", "x-forwarded-proto": "https" })).body).manifest;
    expect(proxied.hook_attributes).toEqual({ url: "https://agent.example.org/api/github/webhooks" });
    expect(proxied.redirect_url).toBe("https://agent.example.org/probot/setup");
  });
});
