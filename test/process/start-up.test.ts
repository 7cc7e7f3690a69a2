/** `npm start` as an operator meets it: the setup page first, then plain words on bad config. */
import { afterEach, describe, expect, it } from "vitest";
import { startAppProcess, type AppProcess } from "../support/app-process.ts";
import { testPrivateKey } from "../support/github-fixtures.ts";

let app: AppProcess | undefined;

afterEach(async () => {
  await app?.dispose();
  app = undefined;
});

describe("npm start without APP_ID", () => {
  it("serves the setup page for registering the GitHub App", async () => {
    app = await startAppProcess({ env: { APP_ID: undefined, PRIVATE_KEY: undefined, WEBHOOK_SECRET: undefined } });

    const root = await fetch(app.url!, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/probot");
    const page = await fetch(`${app.url}/probot`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain("GitHub App");
    expect(html).toContain("running-agent");
    expect(app.output()).toContain("APP_ID is not set");
  });
});

describe("invalid configuration", () => {
  it("refuses ROLE=worker without DATABASE_URL with exit code 2, naming the variable", async () => {
    app = await startAppProcess({ role: "worker", waitForReady: false });

    const exit = await app.waitForExit();
    expect(exit).toEqual({ code: 2, signal: null });
    expect(app.output()).toMatch(/ROLE=worker needs DATABASE_URL/);
  });

  it("names an invalid PORT, and prints no secret's value", async () => {
    const secrets = { WEBHOOK_SECRET: "whsec-must-never-be-printed", API_TOKEN: "short-secret", DATABASE_URL: "postgres://ra:db-password-never-printed@127.0.0.1:1/ra" };
    app = await startAppProcess({ env: { PORT: "not-a-port", ...secrets }, waitForReady: false });

    const exit = await app.waitForExit();
    expect(exit).toEqual({ code: 2, signal: null });
    const output = app.output();
    expect(output).toMatch(/^\s*PORT: /m);
    // API_TOKEN is too short: also named, also without its value.
    expect(output).toMatch(/^\s*API_TOKEN: /m);
    for (const value of Object.values(secrets)) expect(output).not.toContain(value);
    expect(output).not.toContain("db-password-never-printed");
    const keyLine = testPrivateKey().split("\n")[1]!;
    expect(output).not.toContain(keyLine);
  });
});
