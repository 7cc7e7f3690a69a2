import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ApiGitHub } from "../../src/api/api-github.ts";
import { createCookieSealer, SESSION_COOKIE } from "../../src/api/session.ts";
import type { PersonRepository, SignInGitHub } from "../../src/api/sign-in-github.ts";
import { safeReturnPath } from "../../src/api/sign-in-routes.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob } from "../support/job-fixture.ts";

let database: TestDatabase;
let api: ApiServer;
const sealer = createCookieSealer("a-session-secret-for-tests-only-0123456789");

/** Three repositories: ana may write to hello-world, only read docs, and cannot see secret. */
const HELLO = { id: 1296269, fullName: "octo-org/hello-world", defaultBranch: "main", canWrite: true };
const DOCS = { id: 2002, fullName: "octo-org/docs", defaultBranch: "main", canWrite: false };
const people: Record<string, { login: string; id: number; repositories: PersonRepository[] | null }> = {
  ghu_ana: { login: "ana", id: 7, repositories: [HELLO, DOCS] },
  ghu_revoked: { login: "rev", id: 8, repositories: null },
};
let repositoryAsks = 0;

/** GitHub's OAuth side as the app sees it: code "code-ana" is ana's, "code-revoked" a person whose token GitHub later refuses. */
const signInGitHub: SignInGitHub = {
  authorizeUrl: (state, redirectUri) => `https://github.com/login/oauth/authorize?${new URLSearchParams({ client_id: "Iv1.test", redirect_uri: redirectUri, state })}`,
  exchangeCode: async (code) => (code === "code-ana" ? { token: "ghu_ana", expiresAt: null } : code === "code-revoked" ? { token: "ghu_revoked", expiresAt: null } : null),
  userOf: async (token) => ({ login: people[token]!.login, id: people[token]!.id }),
  repositoriesOf: async (token) => {
    repositoryAsks += 1;
    return people[token]?.repositories ?? null;
  },
};

const apiGitHub: ApiGitHub = {
  repositoryOf: async (owner, name) => {
    const known = [HELLO, DOCS].find((repository) => repository.fullName === `${owner}/${name}`);
    return known ? { installationId: 4242, repo: { id: known.id, owner, name, cloneUrl: `https://github.com/${owner}/${name}.git`, defaultBranch: "main" } } : null;
  },
  issueOf: async () => null,
  hasBranch: async () => true,
  installedRepositories: async () => [HELLO, DOCS, { id: 3003, fullName: "octo-org/secret", defaultBranch: "main" }],
  showRun: () => {},
};

interface Person {
  cookie: string;
  csrf: string;
}

/** The whole sign-in as a browser goes through it: to GitHub and back, cookies carried by hand. */
async function signIn(code: string, returnTo?: string): Promise<Person & { location: string }> {
  const start = await fetch(`${api.url}/auth/github${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ""}`, { redirect: "manual" });
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.get("location")!);
  const state = authorize.searchParams.get("state")!;
  const signInCookie = start.headers.get("set-cookie")!.split(";")[0]!;
  const callback = await fetch(`${authorize.searchParams.get("redirect_uri")}?code=${code}&state=${state}`, { redirect: "manual", headers: { cookie: signInCookie } });
  expect(callback.status, await callback.clone().text()).toBe(302);
  const cookie = callback.headers.getSetCookie().find((header) => header.startsWith(`${SESSION_COOKIE}=`))!.split(";")[0]!;
  const session = (await (await fetch(`${api.url}/auth/session`, { headers: { cookie } })).json()) as { csrf_token: string };
  return { cookie, csrf: session.csrf_token, location: callback.headers.get("location")! };
}

const asPerson = (person: Person, method: string, path: string, options: { body?: unknown; csrf?: string | null } = {}) =>
  api.call(method, path, {
    token: null,
    ...(options.body === undefined ? {} : { body: options.body }),
    headers: { cookie: person.cookie, ...(options.csrf === null ? {} : { "x-csrf-token": options.csrf ?? person.csrf }) },
  });

let ana: Person;
const seeded: Record<string, string> = {};

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApiServer(database, { apiGitHub, signIn: { sealer, github: signInGitHub, publicUrl: undefined } });
  for (const [name, repoId] of [["hello", HELLO.id], ["docs", DOCS.id], ["secret", 3003]] as const) {
    seeded[name] = (await insertJob(database.db, { repoId, repoName: name, status: "failed", finishedAt: new Date() })).id;
    seeded[`${name}-queued`] = (await insertJob(database.db, { repoId, repoName: name, status: "queued", issueNumber: repoId })).id;
  }
  ana = await signIn("code-ana");
});
afterAll(async () => {
  await api.close();
  await database.drop();
});
beforeEach(() => {
  repositoryAsks = 0;
});

describe("signing in with GitHub", () => {
  it("goes to GitHub with a fresh state and comes back signed in, to the dashboard page asked for", async () => {
    const first = await fetch(`${api.url}/auth/github`, { redirect: "manual" });
    const second = await fetch(`${api.url}/auth/github`, { redirect: "manual" });
    const states = [first, second].map((response) => new URL(response.headers.get("location")!).searchParams.get("state"));
    expect(states[0]).toMatch(/^[\w-]{43}$/);
    expect(states[0]).not.toBe(states[1]);
    expect(new URL(first.headers.get("location")!).searchParams.get("redirect_uri")).toBe(`${api.url}/auth/github/callback`);
    expect(first.headers.get("set-cookie")).toMatch(/^ra_sign_in=[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/);

    const signedIn = await signIn("code-ana", "/dashboard#/jobs/x");
    expect(signedIn.location).toBe("/dashboard#/jobs/x");
    expect(await (await fetch(`${api.url}/auth/session`, { headers: { cookie: signedIn.cookie } })).json()).toEqual({ sign_in_available: true, user: { login: "ana", id: 7 }, csrf_token: signedIn.csrf });
    // The token stays sealed in the cookie: neither the page nor anyone reading the cookie sees it.
    expect(signedIn.cookie).not.toContain("ghu_");
    expect(await (await fetch(`${api.url}/auth/session`)).json()).toEqual({ sign_in_available: true, user: null, csrf_token: null });
  });

  it("refuses a callback that did not start in this browser, a replayed or refused code, and a sign-in GitHub denied", async () => {
    const start = await fetch(`${api.url}/auth/github`, { redirect: "manual" });
    const state = new URL(start.headers.get("location")!).searchParams.get("state")!;
    const cookie = start.headers.get("set-cookie")!.split(";")[0]!;
    const callback = (query: string, withCookie = true) => fetch(`${api.url}/auth/github/callback?${query}`, { redirect: "manual", headers: withCookie ? { cookie } : {} });
    // Login CSRF: an attacker's own code and state, opened in the victim's browser, which holds no such sign-in.
    expect((await callback(`code=code-ana&state=${state}`, false)).status).toBe(400);
    expect((await callback("code=code-ana&state=forged")).status).toBe(400);
    expect((await callback(`code=used-or-expired&state=${state}`)).status).toBe(400);
    expect((await callback(`error=access_denied&state=${state}`)).status).toBe(403);
    const refused = await callback(`state=${state}`);
    expect(refused.status).toBe(400);
    expect(refused.headers.getSetCookie().join()).not.toContain(`${SESSION_COOKIE}=`);
  });

  it("never sends the person anywhere but a dashboard page after signing in", () => {
    for (const target of ["https://evil.example/", "//evil.example/dashboard", "/dashboard//evil.example", "/\\evil.example", "/api/jobs", "javascript:alert(1)", "/dashboardx", null]) {
      expect(safeReturnPath(target), String(target)).toBe("/dashboard");
    }
    expect(safeReturnPath("/dashboard#/runs/1")).toBe("/dashboard#/runs/1");
  });

  it("refuses a tampered, forged, expired or other kind of cookie", async () => {
    const value = ana.cookie.slice(`${SESSION_COOKIE}=`.length);
    const flipped = `${value.slice(0, 20)}${value[20] === "A" ? "B" : "A"}${value.slice(21)}`;
    const other = createCookieSealer("another-secret-of-another-server-0123456789").sealSession({ login: "ana", id: 7, token: "ghu_ana", csrf: "c", expiresAt: Date.now() + 60_000 });
    const expired = sealer.sealSession({ login: "ana", id: 7, token: "ghu_ana", csrf: "c", expiresAt: Date.now() - 1 });
    const signInCookie = sealer.sealSignIn({ state: "s", returnTo: "/dashboard", expiresAt: Date.now() + 60_000 });
    for (const cookie of [flipped, other, expired, signInCookie, "", "x".repeat(9_000)]) {
      expect((await api.call("GET", "/api/jobs", { token: null, headers: { cookie: `${SESSION_COOKIE}=${cookie}` } })).status).toBe(401);
    }
  });
});

describe("what a signed-in person sees and may do", () => {
  it("lists the jobs, runs and repositories of what they can read, and reads only those", async () => {
    const listed = (await (await asPerson(ana, "GET", "/api/jobs")).json()) as { jobs: Array<{ id: string }> };
    expect(listed.jobs.map((job) => job.id).sort()).toEqual([seeded.hello, seeded["hello-queued"], seeded.docs, seeded["docs-queued"]].sort());
    expect((await asPerson(ana, "GET", `/api/jobs/${seeded.docs}`)).status).toBe(200);
    // Another repository's job is not even said to exist.
    const hidden = await asPerson(ana, "GET", `/api/jobs/${seeded.secret}`);
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toEqual({ error: "no job with that id" });
    expect((await asPerson(ana, "GET", `/api/jobs/${seeded.secret}/events`)).status).toBe(404);
    expect(await (await asPerson(ana, "GET", "/api/repositories")).json()).toEqual({
      repositories: [
        { repository: "octo-org/docs", default_branch: "main", can_write: false },
        { repository: "octo-org/hello-world", default_branch: "main", can_write: true },
      ],
    });
    // The machine token sees every repository the app is installed on.
    expect(((await (await api.call("GET", "/api/repositories")).json()) as { repositories: unknown[] }).repositories).toHaveLength(3);
    // What they can read is asked of GitHub once a minute, not once a request.
    expect(repositoryAsks).toBeLessThanOrEqual(1);
  });

  it("starts, cancels and retries work only where they may write, with the page's CSRF token, as themselves", async () => {
    const task = { repository: "octo-org/hello-world", task: "Fix the typo", requester: "someone-else" };
    expect((await asPerson(ana, "POST", "/api/jobs", { body: task, csrf: null })).status).toBe(403);
    expect((await asPerson(ana, "POST", "/api/jobs", { body: task, csrf: "wrong" })).status).toBe(403);
    const created = await asPerson(ana, "POST", "/api/jobs", { body: task });
    expect(created.status).toBe(201);
    const job = (await created.json()) as { id: string; requester: string };
    expect(job.requester).toBe("ana");
    expect((await database.db.select().from(jobs)).find((row) => row.id === job.id)).toMatchObject({ requesterLogin: "ana", requesterId: 7 });

    const readOnly = await asPerson(ana, "POST", "/api/jobs", { body: { ...task, repository: "octo-org/docs" } });
    expect(readOnly.status).toBe(403);
    expect(await readOnly.json()).toEqual({ error: "you need write access to octo-org/docs for this" });
    expect((await asPerson(ana, "POST", "/api/jobs", { body: { ...task, repository: "octo-org/secret" } })).status).toBe(422);

    expect((await asPerson(ana, "POST", `/api/jobs/${seeded["docs-queued"]}/cancel`)).status).toBe(403);
    expect((await asPerson(ana, "POST", `/api/jobs/${seeded["secret-queued"]}/cancel`)).status).toBe(404);
    expect((await asPerson(ana, "POST", `/api/jobs/${seeded["hello-queued"]}/cancel`, { csrf: null })).status).toBe(403);
    const cancelled = await asPerson(ana, "POST", `/api/jobs/${seeded["hello-queued"]}/cancel`);
    expect(cancelled.status).toBe(202);
    expect((await asPerson(ana, "POST", `/api/jobs/${seeded.docs}/retry`)).status).toBe(403);
    expect((await asPerson(ana, "POST", `/api/jobs/${seeded.hello}/retry`)).status).toBe(202);
    const untouched = (await database.db.select().from(jobs)).filter((row) => [seeded["docs-queued"], seeded["secret-queued"], seeded.docs].includes(row.id));
    expect(untouched.map((row) => row.status).sort()).toEqual(["failed", "queued", "queued"]);
  });

  it("keeps the machine routes to the token, and asks a person whose token GitHub refuses to sign in again", async () => {
    for (const [method, path] of [["GET", "/metrics"], ["GET", "/jobs"], ["GET", `/status/${seeded.hello}`], ["POST", "/submit"]] as const) {
      expect((await asPerson(ana, method, path, method === "POST" ? { body: {} } : {})).status, path).toBe(403);
    }
    const revoked = await signIn("code-revoked");
    const response = await asPerson(revoked, "GET", "/api/jobs");
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "your GitHub sign-in has expired or was revoked: sign in again" });
  });

  it("signs out only with the page's CSRF token", async () => {
    const person = await signIn("code-ana");
    expect((await fetch(`${api.url}/auth/logout`, { method: "POST", headers: { cookie: person.cookie } })).status).toBe(403);
    const out = await fetch(`${api.url}/auth/logout`, { method: "POST", headers: { cookie: person.cookie, "x-csrf-token": person.csrf } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^ra_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0$/);
  });
});

describe("a server without sign-in", () => {
  it("says sign-in is not available and takes the token only", async () => {
    const plain = await startApiServer(database, { apiGitHub });
    try {
      expect(await (await fetch(`${plain.url}/auth/session`)).json()).toEqual({ sign_in_available: false, user: null, csrf_token: null });
      expect((await fetch(`${plain.url}/auth/github`, { redirect: "manual" })).status).toBe(404);
      expect((await plain.call("GET", "/api/jobs", { token: null, headers: { cookie: ana.cookie } })).status).toBe(401);
    } finally {
      await plain.close();
    }
  });
});
