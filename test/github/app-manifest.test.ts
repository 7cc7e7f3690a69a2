import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { baseUrlOf, buildAppManifest, isLoopbackHost } from "../../src/github/app-manifest.ts";

const APP_YML = parseYaml(readFileSync(path.resolve(import.meta.dirname, "../../app.yml"), "utf8")) as Record<string, unknown>;

describe("buildAppManifest", () => {
  it("points the repository's app.yml at the server the page was opened at: webhooks and the redirect back", () => {
    const manifest = buildAppManifest(APP_YML, { baseUrl: "https://agent.example.org", webhookProxyUrl: undefined });

    expect(manifest.hook_attributes).toEqual({ url: "https://agent.example.org/api/github/webhooks" });
    expect(manifest.redirect_url).toBe("https://agent.example.org/probot/setup");
    expect(manifest).toMatchObject({ callback_urls: ["https://agent.example.org/auth/github/callback"], request_oauth_on_install: false });
    expect(JSON.stringify(manifest)).not.toContain("example.com");
    expect(manifest).toMatchObject({ name: "Running Agent", public: false, default_permissions: { contents: "write", checks: "write" } });
  });

  it("registers the webhook proxy's channel instead, when there is one; GitHub still redirects to this server", () => {
    const manifest = buildAppManifest(APP_YML, { baseUrl: "http://localhost:3000", webhookProxyUrl: "https://smee.io/abc123" });

    expect(manifest.hook_attributes).toEqual({ url: "https://smee.io/abc123" });
    expect(manifest.redirect_url).toBe("http://localhost:3000/probot/setup");
  });

  it("wins over a URL left in an app.yml, keeping its other hook attributes", () => {
    const manifest = buildAppManifest({ name: "x", hook_attributes: { url: "https://example.com/api/github/webhooks", active: false }, redirect_url: "https://example.com/" }, { baseUrl: "http://127.0.0.1:4000", webhookProxyUrl: undefined });

    expect(manifest.hook_attributes).toEqual({ url: "http://127.0.0.1:4000/api/github/webhooks", active: false });
    expect(manifest.redirect_url).toBe("http://127.0.0.1:4000/probot/setup");
  });
});

describe("baseUrlOf", () => {
  it("takes the Host header, or what a proxy in front forwards", () => {
    expect(baseUrlOf({ host: "127.0.0.1:3000" })).toBe("http://127.0.0.1:3000");
    expect(baseUrlOf({ host: "10.0.0.5:3000", "x-forwarded-host": "agent.example.org", "x-forwarded-proto": "https" })).toBe("https://agent.example.org");
    expect(baseUrlOf({ host: "lb", "x-forwarded-host": "Agent.Example.org, lb", "x-forwarded-proto": "https, http" })).toBe("https://agent.example.org");
    expect(baseUrlOf({ host: "[::1]:3000", "x-forwarded-proto": "http" })).toBe("http://[::1]:3000");
  });

  it("refuses a Host that is no host name rather than put it in a URL GitHub calls", () => {
    for (const host of [undefined, "", "evil.example/path", "a b", "user@host", "host:port", `${"a".repeat(64)}.example`]) {
      expect(baseUrlOf({ ...(host === undefined ? {} : { host }) })).toBeNull();
    }
  });
});

describe("isLoopbackHost", () => {
  it("knows this machine's names, whatever the port, and nothing else", () => {
    for (const host of ["localhost", "localhost:3000", "127.0.0.1:3000", "127.1.2.3", "[::1]:8080", "LOCALHOST:1"]) expect(isLoopbackHost(host)).toBe(true);
    for (const host of [undefined, "", "rebind.attacker.example:3000", "localhost.attacker.example", "127.0.0.1.nip.io", "192.0.2.2:3000", "[::2]"]) expect(isLoopbackHost(host)).toBe(false);
  });
});
