/**
 * GitHub calls at a stop, through Probot's production Octokit (retries and throttling on)
 * against the fake GitHub over HTTP: no retry once the stop began, and a deadline for all.
 * Each test waits for a settlement, never for time: without the stop, the call in question
 * would settle only after Octokit's retries (14 s) and with another error, or never.
 */
import pino from "pino";
import { Probot, ProbotOctokit } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import { createGitHubCallStop, GitHubCallCut, type GitHubCallStop } from "../../src/github/calls-at-stop.ts";
import { startFakeGitHub, type FakeGitHub } from "../fakes/fake-github.ts";
import { testPrivateKey } from "../support/github-fixtures.ts";
import { APP_ID } from "../support/probot.ts";

const repo = { owner: "octo-org", repo: "hello-world" };
// Probot caches installation tokens across instances: a fresh installation per test.
let installationId = 7000;
let github: FakeGitHub | undefined;

afterEach(async () => {
  await github?.close();
  github = undefined;
});

async function connect(stop: GitHubCallStop) {
  github = await startFakeGitHub({ appId: APP_ID });
  const probot = new Probot({ appId: APP_ID, privateKey: testPrivateKey(), baseUrl: github.apiUrl, Octokit: ProbotOctokit.plugin(stop.plugin), log: pino({ level: "silent" }) });
  const octokit = await probot.auth(++installationId);
  const askRole = () => octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: "octocat" });
  // The token first, so that only the call under test meets the outage.
  await askRole();
  return { github, askRole, roleRequests: () => github!.requests.filter((request) => request.path.endsWith("/collaborators/octocat/permission")).length };
}

describe("GitHub calls at a stop", () => {
  it("cuts at once a call that failed already and is being tried again", async () => {
    const stop = createGitHubCallStop({ lastCallsMs: 10 * 60_000 });
    const { github, askRole, roleRequests } = await connect(stop);
    github.setOutage({ status: 502 });

    const call = askRole();
    await github.waitFor((request) => request.status === 502);
    // Octokit tries again a second later; that attempt is never answered.
    github.setOutage("hang");
    await github.waitFor((request) => request.status === 0);
    stop.stop();

    // Left to the deadline, it would end ten minutes from now.
    await expect(call).rejects.toBeInstanceOf(GitHubCallCut);
    expect(roleRequests()).toBe(3);
  });

  it("does not retry a call in flight at the stop that fails after it", async () => {
    const stop = createGitHubCallStop({ lastCallsMs: 10 * 60_000 });
    const { github, askRole, roleRequests } = await connect(stop);
    github.setOutage({ status: 502 });

    const call = askRole();
    stop.stop();

    await expect(call).rejects.toMatchObject({ status: 502 });
    expect(roleRequests()).toBe(2);
  });

  it("cuts a call in flight that GitHub does not answer, at the stop's deadline", async () => {
    const stop = createGitHubCallStop({ lastCallsMs: 100 });
    const { github, askRole } = await connect(stop);
    github.setOutage("hang");

    const call = askRole();
    await github.waitFor((request) => request.status === 0);
    stop.stop();

    await expect(call).rejects.toBeInstanceOf(GitHubCallCut);
  });

  it("tries a call made after the stop began once: a 502 is final", async () => {
    const stop = createGitHubCallStop({ lastCallsMs: 10 * 60_000 });
    const { github, askRole, roleRequests } = await connect(stop);
    stop.stop();
    github.setOutage({ status: 502 });

    await expect(askRole()).rejects.toMatchObject({ status: 502 });
    expect(roleRequests()).toBe(2);
  });

  it("cuts calls made after the stop began at the stop's deadline; past it, a call does not start", async () => {
    const stop = createGitHubCallStop({ lastCallsMs: 100 });
    const { github, askRole } = await connect(stop);
    github.setOutage("hang");
    stop.stop();

    await expect(askRole()).rejects.toBeInstanceOf(GitHubCallCut);
    const seen = github.requests.length;
    await expect(askRole()).rejects.toBeInstanceOf(GitHubCallCut);
    expect(github.requests.length).toBe(seen);
  });

  it("lets calls through while GitHub answers: before the stop, in flight at it, and after it", async () => {
    const stop = createGitHubCallStop({ lastCallsMs: 10 * 60_000 });
    const { askRole } = await connect(stop);
    expect((await askRole()).data.role_name).toBe("write");
    const inFlight = askRole();
    stop.stop();
    expect((await inFlight).data.role_name).toBe("write");
    expect((await askRole()).data.role_name).toBe("write");
  });
});
