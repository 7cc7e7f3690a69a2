/** The fake GitHub answers the app's calls as a real Octokit makes them; checked without the app. */
import { createSign } from "node:crypto";
import pino from "pino";
import { Probot, type ProbotOctokit } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import { testPrivateKey } from "../support/github-fixtures.ts";
import { APP_ID, TestOctokit } from "../support/probot.ts";
import { isAppJwt, startFakeGitHub, type FakeGitHub, type FakeGitHubOptions } from "./fake-github.ts";

const SHA = "c0ffee".padEnd(40, "0");
const repo = { owner: "octo-org", repo: "hello-world" };
let fakes: FakeGitHub[] = [];
// Probot caches installation tokens across instances: a fresh installation id per test keeps
// a token issued by an earlier test's fake from reaching this one.
let installationId = 1000;

afterEach(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  fakes = [];
});

async function serve(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const fake = await startFakeGitHub({ appId: APP_ID, branches: { main: SHA }, ...options });
  fakes.push(fake);
  return fake;
}

function probotFor(fake: FakeGitHub): Probot {
  return new Probot({ appId: APP_ID, privateKey: testPrivateKey(), secret: "s", baseUrl: fake.apiUrl, Octokit: TestOctokit, log: pino({ level: "silent" }) });
}

async function installationOctokit(fake: FakeGitHub): Promise<ProbotOctokit> {
  return probotFor(fake).auth(++installationId);
}

/** A JWT with the given header and payload and a junk signature. */
function jwtOf(header: object, payload: object): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode(header)}.${encode(payload)}.c2lnbmF0dXJl`;
}

const now = () => Math.floor(Date.now() / 1000);

describe("fake GitHub", () => {
  it("serves every call the app makes, through Octokit, and records them", async () => {
    const fake = await serve({ roles: { mallory: null, mia: "maintain" } });
    const octokit = await installationOctokit(fake);

    const role = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: "octocat" });
    expect(role.data).toMatchObject({ permission: "write", role_name: "write" });
    expect((await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: "mia" })).data).toMatchObject({ permission: "write", role_name: "maintain" });
    await expect(octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: "mallory" })).rejects.toMatchObject({ status: 404 });

    await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: 9001, content: "eyes" });
    const comment = await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: "queued" });
    const second = await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: "another" });
    expect(second.data.id).toBe(comment.data.id + 1);
    await octokit.rest.issues.updateComment({ ...repo, comment_id: comment.data.id, body: "done" });
    expect(fake.comments.get(comment.data.id)?.body).toBe("done");

    const ref = await octokit.rest.git.getRef({ ...repo, ref: "heads/main" });
    expect(ref.data.object.sha).toBe(SHA);
    await expect(octokit.rest.git.getRef({ ...repo, ref: "heads/nope" })).rejects.toMatchObject({ status: 404 });

    const check = await octokit.rest.checks.create({ ...repo, name: "Running Agent", head_sha: SHA, status: "queued" });
    await octokit.rest.checks.update({ ...repo, check_run_id: check.data.id, status: "completed", conclusion: "success" });
    expect(fake.checkRuns.get(check.data.id)?.fields).toMatchObject({ name: "Running Agent", status: "completed", conclusion: "success" });

    const head = "agent/7-add-greet";
    expect((await octokit.rest.pulls.list({ ...repo, head: `octo-org:${head}`, state: "open" })).data).toEqual([]);
    const pull = await octokit.rest.pulls.create({ ...repo, head, base: "main", title: "Add greet", body: "Closes #7" });
    expect(pull.data.html_url).toBe(`http://${fake.host}/octo-org/hello-world/pull/${pull.data.number}`);
    const listed = await octokit.rest.pulls.list({ ...repo, head: `octo-org:${head}`, state: "open" });
    expect(listed.data.map((candidate) => candidate.number)).toEqual([pull.data.number]);
    expect((await octokit.rest.pulls.list({ ...repo, head: "octo-org:other", state: "open" })).data).toEqual([]);
    await octokit.rest.pulls.update({ ...repo, pull_number: pull.data.number, body: "Closes #7, again" });
    expect(fake.pullRequests[0]).toMatchObject({ head, base: "main", title: "Add greet", body: "Closes #7, again", draft: false });

    expect(fake.requests[0]).toMatchObject({ method: "POST", path: `/app/installations/${installationId}/access_tokens`, route: "apps.createInstallationAccessToken", auth: "jwt", status: 201 });
    expect(fake.requests.slice(1).every((request) => request.auth === "installation")).toBe(true);
    expect(fake.requests.find((request) => request.route === "git.getRef")?.path).toBe("/repos/octo-org/hello-world/git/ref/heads/main");
    expect(fake.requests.find((request) => request.route === "issues.createComment")?.body).toEqual({ body: "queued" });
    expect(fake.requests.filter((request) => request.route === null)).toEqual([]);
    const pullsList = fake.requests.find((request) => request.route === "pulls.list");
    expect(pullsList?.query).toEqual({ head: `octo-org:${head}`, state: "open" });
    expect(pullsList!.at).toBeGreaterThan(Date.now() - 60_000);
  });

  it("issues a repository-scoped token to the app and accepts it afterwards", async () => {
    const fake = await serve();
    const appOctokit = await probotFor(fake).auth();
    const { data } = await appOctokit.rest.apps.createInstallationAccessToken({ installation_id: 42, repository_ids: [1], permissions: { contents: "write" } });
    expect(data).toMatchObject({ token: expect.stringMatching(/^ghs_\w{36}$/), permissions: { contents: "write" }, repository_selection: "selected" });
    expect(fake.requests[0]!.body).toEqual({ repository_ids: [1], permissions: { contents: "write" } });
    const response = await fetch(`${fake.apiUrl}/repos/o/r/pulls`, { headers: { authorization: `token ${data.token}` } });
    expect(response.status).toBe(200);
  });

  it("answers 404 to anything it does not serve, and records it", async () => {
    const fake = await serve();
    const octokit = await installationOctokit(fake);
    await expect(octokit.rest.issues.lock({ ...repo, issue_number: 7 })).rejects.toMatchObject({ status: 404 });
    expect((await fetch(`http://${fake.host}/elsewhere`)).status).toBe(404);
    expect(fake.requests.filter((request) => request.route === null).map((request) => `${request.method} ${request.path} ${request.status}`)).toEqual([
      "PUT /repos/octo-org/hello-world/issues/7/lock 404",
      "GET /elsewhere 404",
    ]);
  });

  it("rejects app requests without a well-formed RS256 JWT naming the app, and unknown tokens", async () => {
    const fake = await serve();
    const tokenUrl = `${fake.apiUrl}/app/installations/1/access_tokens`;
    const post = (authorization?: string) => fetch(tokenUrl, { method: "POST", headers: authorization ? { authorization } : {} }).then((response) => response.status);
    const valid = { iat: now() - 30, exp: now() + 540, iss: String(APP_ID) };
    expect(await post(`Bearer ${jwtOf({ alg: "RS256", typ: "JWT" }, valid)}`)).toBe(201);
    expect(await post()).toBe(401);
    expect(await post("Bearer not-a-jwt")).toBe(401);
    expect(await post(`Bearer ${jwtOf({ alg: "HS256" }, valid)}`)).toBe(401);
    expect(await post(`Bearer ${jwtOf({ alg: "RS256" }, { ...valid, iss: "999" })}`)).toBe(401);
    expect(await post(`token ${fake.tokens[0]}`)).toBe(401);
    const repoStatus = await fetch(`${fake.apiUrl}/repos/o/r/pulls`, { headers: { authorization: "token ghs_madeUp" } }).then((response) => response.status);
    expect(repoStatus).toBe(401);
    expect(fake.requests.map((request) => request.auth)).toEqual(["jwt", "none", "invalid", "invalid", "invalid", "invalid", "invalid"]);
  });

  it("checks a JWT's shape and lifetime, not its signature", () => {
    const signed = (() => {
      const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url");
      const payload = Buffer.from(JSON.stringify({ iat: now() - 30, exp: now() + 570, iss: APP_ID })).toString("base64url");
      const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(testPrivateKey()).toString("base64url");
      return `${header}.${payload}.${signature}`;
    })();
    expect(isAppJwt(signed, APP_ID)).toBe(true);
    expect(isAppJwt(signed)).toBe(true);
    expect(isAppJwt(jwtOf({ alg: "RS256" }, { iat: now() - 700, exp: now() - 100, iss: APP_ID }), APP_ID)).toBe(false);
    expect(isAppJwt(jwtOf({ alg: "RS256" }, { iat: now(), exp: now() + 3600, iss: APP_ID }), APP_ID)).toBe(false);
    expect(isAppJwt(jwtOf({ alg: "RS256" }, { iat: now(), exp: now() + 60 }))).toBe(false);
    expect(isAppJwt(`${signed}.extra`, APP_ID)).toBe(false);
  });

  it("fails the first N requests to a route as scripted", async () => {
    const fake = await serve({ failures: [{ route: "pulls.create", times: 2 }, { route: "checks.update", times: 1, status: 500 }] });
    const octokit = await installationOctokit(fake);
    const create = () => octokit.rest.pulls.create({ ...repo, head: "agent/x", base: "main", title: "t" });
    await expect(create()).rejects.toMatchObject({ status: 502 });
    await expect(create()).rejects.toMatchObject({ status: 502 });
    expect((await create()).status).toBe(201);
    await expect(octokit.rest.checks.update({ ...repo, check_run_id: 6001, status: "in_progress" })).rejects.toMatchObject({ status: 500 });
    expect(fake.pullRequests).toHaveLength(1);
    expect(fake.requests.filter((request) => request.route === "pulls.create").map((request) => request.status)).toEqual([502, 502, 201]);
  });

  it("waits for a request that has come or is still to come, and says what it saw when none does", async () => {
    const fake = await serve();
    const octokit = await installationOctokit(fake);
    const waiting = fake.waitFor((request) => request.route === "issues.createComment");
    await octokit.rest.issues.createComment({ ...repo, issue_number: 3, body: "hi" });
    expect((await waiting).body).toEqual({ body: "hi" });
    // Already recorded: resolves at once.
    expect((await fake.waitFor((request) => request.route === "issues.createComment", 10)).path).toBe("/repos/octo-org/hello-world/issues/3/comments");
    await expect(fake.waitFor((request) => request.route === "pulls.create", 50)).rejects.toThrow(/no matching request within 50 ms; received:\n {2}POST \/app\/installations\/\d+\/access_tokens → 201/);
  });
});
