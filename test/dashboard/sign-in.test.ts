import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiGitHub } from "../../src/api/api-github.ts";
import { createCookieSealer } from "../../src/api/session.ts";
import type { SignInGitHub } from "../../src/api/sign-in-github.ts";
import { createSignInGitHub } from "../../src/github/sign-in.ts";
import { findJob } from "../../src/store/job-queries.ts";
import { startFakeGitHubSignIn, type FakeGitHubSignIn } from "../fakes/fake-github-sign-in.ts";
import { TEST_API_TOKEN } from "../support/api-server.ts";
import { useBrowser, waitForText } from "../support/browser.ts";
import { insertJob } from "../support/job-fixture.ts";
import { fakeGitHub, REPOSITORY, useDashboardServer } from "./dashboard-fixtures.ts";

/** ana may write to hello-world and only read docs. */
const HELLO = { id: 1296269, fullName: REPOSITORY, defaultBranch: "main", canWrite: true };
const DOCS = { id: 2002, fullName: "octo-org/docs", defaultBranch: "main", canWrite: false };

/**
 * GitHub's side of signing in, over HTTP (test/fakes/fake-github-sign-in.ts): the browser goes
 * to its authorize page, which ana approves at once, and the app talks to it as to GitHub.
 */
let github: FakeGitHubSignIn;
beforeAll(async () => {
  github = await startFakeGitHubSignIn([{ login: "ana", id: 7, repositories: [HELLO, DOCS] }]);
  github.signInAs("ana");
});
afterAll(async () => {
  await github.close();
});
let client: SignInGitHub | null = null;
const viaFake = (): SignInGitHub => (client ??= createSignInGitHub({ clientId: github.clientId, clientSecret: github.clientSecret, webUrl: github.webUrl, apiUrl: github.apiUrl }));
const signInGitHub: SignInGitHub = {
  authorizeUrl: (state, redirectUri) => viaFake().authorizeUrl(state, redirectUri),
  exchangeCode: (code, redirectUri) => viaFake().exchangeCode(code, redirectUri),
  userOf: (token) => viaFake().userOf(token),
  repositoriesOf: (token) => viaFake().repositoriesOf(token),
};
const apiGitHub: ApiGitHub = { ...fakeGitHub, installedRepositories: async () => [HELLO, DOCS] };

const server = useDashboardServer({ apiGitHub, signIn: { sealer: createCookieSealer("a-session-secret-for-tests-only-0123456789"), github: signInGitHub, publicUrl: undefined } });
const browser = useBrowser();

describe("signed in with GitHub", () => {
  it("signs in from the header, shows only what the person may see, offers actions only where they may write, and signs out", async () => {
    const mine = await insertJob(server.database.db, { status: "queued", task: "Add greet(name)" });
    const readOnly = await insertJob(server.database.db, { status: "queued", repoId: DOCS.id, repoName: "docs", issueNumber: 3, task: "Fix the docs' typo" });
    const page = await browser.open(`${server.url}#/jobs/${mine.id}`, { token: null });
    await waitForText(page.locator(".gate"), "Sign in with GitHub above, or paste the API token");
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    // Back from GitHub on the page it left, signed in: no token anywhere, the session cookie does.
    await waitForText(page.locator("#auth .user"), "ana");
    expect(page.url()).toContain(`#/jobs/${mine.id}`);
    await waitForText(page.locator(".job-head .badge"), "queued");

    // Where ana may write: Cancel, sent with the session's CSRF token (the API refuses a write without it).
    await page.getByRole("button", { name: "Cancel job" }).click();
    await waitForText(page.locator(".job-head .badge"), "cancelled");
    expect((await findJob(server.database.db, mine.id))?.status).toBe("cancelled");

    // Where ana may only read: no button, and a word on why; and the API refuses her too, CSRF token and all.
    await page.evaluate(`location.hash = "#/jobs/${readOnly.id}"`);
    await waitForText(page.locator(".job-head"), "needs write access");
    expect(await page.locator(".job-head button").count()).toBe(0);
    const refused = await page.evaluate(`(async () => {
      const session = await (await fetch("/auth/session")).json();
      const response = await fetch("/api/jobs/${readOnly.id}/cancel", { method: "POST", headers: { "x-csrf-token": session.csrf_token } });
      return { status: response.status, body: await response.json() };
    })()`);
    expect(refused).toEqual({ status: 403, body: { error: "you need write access to octo-org/docs for this" } });
    expect((await findJob(server.database.db, readOnly.id))?.status).toBe("queued");
    expect(github.requests).toEqual(expect.arrayContaining(["GET /login/oauth/authorize", "POST /login/oauth/access_token", "GET /api/v3/user"]));

    await page.locator(".nav").getByRole("link", { name: "Start work" }).click();
    await page.locator("select#repository").waitFor();
    expect(await page.locator("select#repository option").allInnerTexts()).toEqual([REPOSITORY]);
    await browser.screenshot(page, "signed-in-start-1280");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "Sign in with GitHub" }).waitFor();
    await page.locator(".gate").waitFor();
    expect(await page.locator("#view").innerText()).not.toContain(REPOSITORY);
  });
});

describe("with the API token", () => {
  it("says clearly when the token is refused, clears what it showed, and throws nothing", async () => {
    await insertJob(server.database.db, { status: "running", phase: "explore", task: "A job only the right token may see" });
    const page = await browser.open(server.url, { token: TEST_API_TOKEN });
    await waitForText(page.locator(".lists .row"), "A job only the right token may see");
    await page.getByRole("button", { name: "Change" }).click();
    await page.getByLabel("API token").fill("not-the-token");
    await page.getByRole("button", { name: "Use token" }).click();
    await waitForText(page.locator("#banner"), "The API token was refused");
    expect(await page.locator(".row").count()).toBe(0);
    expect(await page.locator("#view").innerText()).not.toContain("A job only the right token may see");
    await browser.screenshot(page, "wrong-token-1280");

    // A wrong token from the start, on a job's page: the same, and nothing left to click.
    const fresh = await browser.open(`${server.url}#/jobs/${(await insertJob(server.database.db, {})).id}`, { token: "not-the-token" });
    await waitForText(fresh.locator("#banner"), "The API token was refused");
    expect(await fresh.locator(".detail, .row").count()).toBe(0);
  });

  it("takes a token typed into the header where sign-in is not set up", async () => {
    const page = await browser.open(server.url, { token: null, answer404: ["/auth/session"] });
    await page.locator(".gate").waitFor();
    expect(await page.getByRole("link", { name: "Sign in with GitHub" }).count()).toBe(0);
    await page.getByLabel("API token").fill(TEST_API_TOKEN);
    await page.getByRole("button", { name: "Use token" }).click();
    await page.locator(".lists .row").first().waitFor();
    await waitForText(page.locator("#auth"), "API token in use");
    await page.getByRole("button", { name: "Forget" }).click();
    await page.locator(".gate").waitFor();
    expect(await page.locator(".row").count()).toBe(0);
  });
});
