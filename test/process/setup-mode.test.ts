/**
 * `npm start` as a newcomer meets it before the app exists: the setup page registers the
 * app with webhooks pointed at this server (or the webhook proxy), only this machine can
 * complete it, and a registered app then receives what the proxy forwards.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import os from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../fakes/fake-github.ts";
import { startAppProcess, type AppProcess } from "../support/app-process.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { APP_ID, WEBHOOK_SECRET } from "../support/probot.ts";

/** No credentials: the setup page. HOST unset, as a newcomer leaves it. */
const NO_APP = { APP_ID: undefined, PRIVATE_KEY: undefined, WEBHOOK_SECRET: undefined, HOST: undefined };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startSetupMode(env: Record<string, string | undefined> = {}): Promise<AppProcess> {
  const app = await startAppProcess({ env: { ...NO_APP, ...env } });
  cleanups.push(() => app.dispose());
  return app;
}

/** The manifest the setup page's form would POST to GitHub, as the browser decodes it. */
async function manifestOf(app: AppProcess): Promise<Record<string, unknown>> {
  const html = await (await fetch(`${app.url}/probot`)).text();
  // The form's `manifest` field, in double or single quotes (Probot's own page used those).
  const match = /name="manifest"[^>]*? value=(?:"([^"]*)"|'([^']*)')/.exec(html);
  const value = match?.[1] ?? match?.[2];
  if (value === undefined) throw new Error(`no manifest form in:\n${html}`);
  return JSON.parse(value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))) as Record<string, unknown>;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** This machine's address on a network, if it has one (a container's eth0). */
function networkAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((address) => address && address.family === "IPv4" && !address.internal)?.address;
}

describe("npm start without APP_ID", () => {
  it("registers the app with this server's webhook URL and redirect, not app.yml's placeholder", async () => {
    const app = await startSetupMode();

    const manifest = await manifestOf(app);
    expect(manifest.hook_attributes).toEqual({ url: `${app.url}/api/github/webhooks` });
    expect(manifest.redirect_url).toBe(`${app.url}/probot/setup`);
    expect(JSON.stringify(manifest)).not.toContain("example.com");
    expect(app.output()).toContain(`APP_ID is not set: open ${app.url}/probot to register the GitHub App`);
  });

  it("registers the webhook proxy's channel when WEBHOOK_PROXY_URL is set", async () => {
    const app = await startSetupMode({ WEBHOOK_PROXY_URL: "https://smee.io/running-agent-test" });

    const manifest = await manifestOf(app);
    expect(manifest.hook_attributes).toEqual({ url: "https://smee.io/running-agent-test" });
    expect(manifest.redirect_url).toBe(`${app.url}/probot/setup`);
  });

  it("listens on 127.0.0.1 only, unless HOST is set: another machine cannot write credentials to its .env", async (context) => {
    const address = networkAddress();
    if (!address) return context.skip("this machine has no network address besides loopback to connect from");
    const app = await startSetupMode();
    const port = Number(new URL(app.url!).port);
    expect(await accepts("127.0.0.1", port)).toBe(true);
    expect(await accepts(address, port)).toBe(false);

    const open = await startSetupMode({ HOST: "0.0.0.0" });
    expect(await accepts(address, Number(new URL(open.url!).port))).toBe(true);
  });

  it("refuses to serve the setup page with NODE_ENV=production, saying what to set", async () => {
    const app = await startAppProcess({ env: { ...NO_APP, NODE_ENV: "production" }, waitForReady: false });
    cleanups.push(() => app.dispose());

    expect(await app.waitForExit()).toEqual({ code: 2, signal: null });
    expect(app.output()).toMatch(/APP_ID is not set.*set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET/);
  });
});

describe("WEBHOOK_PROXY_URL with the app registered", () => {
  it("forwards what GitHub delivered to the proxy's channel to this server's webhook path", async () => {
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    const github: FakeGitHub = await startFakeGitHub({ appId: APP_ID });
    cleanups.push(() => github.close());
    const payload = { zen: "Design for failure.", hook_id: 1, hook: { type: "App", id: 1, events: ["issue_comment"] } };
    // A channel is public: anyone who knows its URL can post to it, so the forged one must be refused as it would be sent directly.
    const channel = await startFakeChannel([
      { "x-github-event": "ping", "x-github-delivery": "proxy-delivery-1", "x-hub-signature-256": sign(JSON.stringify(payload)), body: payload },
      { "x-github-event": "ping", "x-github-delivery": "forged-delivery", "x-hub-signature-256": sign(JSON.stringify(payload), "a-guessed-secret"), body: payload },
    ]);
    cleanups.push(() => channel.close());

    const app = await startAppProcess({ role: "web", env: { GHE_HOST: github.host, DATABASE_URL: database.url, WEBHOOK_PROXY_URL: channel.url } });
    cleanups.push(() => app.dispose());

    // smee-client logs each forward with the answer it got: the app verified the signature and took it.
    await app.waitForOutput(/POST http:\/\/127\.0\.0\.1:\d+\/api\/github\/webhooks - 200/);
    await app.waitForOutput(/POST http:\/\/127\.0\.0\.1:\d+\/api\/github\/webhooks - 400/);
  });
});

function sign(body: string, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** A smee.io channel: an event stream that sends each client these deliveries (headers and body). */
async function startFakeChannel(deliveries: Array<Record<string, unknown>>): Promise<{ url: string; close(): Promise<void> }> {
  const clients = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const delivery of deliveries) res.write(`data: ${JSON.stringify(delivery)}\n\n`);
    clients.add(res);
    req.on("close", () => clients.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/channel-1`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of clients) client.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
