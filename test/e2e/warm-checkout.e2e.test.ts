/**
 * A warm agent of the repository (src/jobs/warm-agents.ts): after a job on a repository,
 * the worker's next spare holds a checkout of it, with opencode booted there. The next job
 * on that repository takes it, with the real opencode and the local sandbox: its checkout
 * must be what a fresh clone would have been (commits pushed since the spare was made
 * included), the boot must have asked no model anything, and a job on another repository
 * must never get it.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startModelServer, type ModelRequest, type Turn } from "../fakes/model-server.ts";
import { startAppHarness } from "../support/app-harness.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import nock from "nock";
import { GITHUB_API, nockAnnounce, nockInstallationToken, nockIssueContext, nockRole, nockWorkerCalls, REPO_TOKEN } from "../support/github-api.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { GREET_SOURCE, pushCommit } from "../support/git-remote.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { agentScript, scriptedModelEnv } from "../support/scripted-model.ts";
import type { RepoFixture } from "../support/github-fixtures.ts";

const e2e = useEndToEnd();

/** What the build agent's first command shows of the checkout: its refs, origin, committer and anything untracked. */
const INSPECT = "git for-each-ref --format='REF %(refname) %(objectname)'; echo ORIGIN $(git remote get-url origin); echo EMAIL $(git config user.email); git status --porcelain --ignored; ls NEWS.md";

describe("a warm agent with the repository checked out", () => {
  it("serves the next job on the repository as a fresh clone would, its opencode booted without a model request", async () => {
    const defaults = agentScript({ build: [] }) as (request: ModelRequest) => Turn;
    e2e.model = await startModelServer((request: ModelRequest): Turn => {
      if (request.agent !== "build" || request.tools.length === 0) return defaults(request);
      if (request.turnIndex === 0) return { toolCalls: [{ name: "bash", arguments: { command: INSPECT, description: "inspect" } }] };
      if (request.turnIndex === 1) return { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] };
      return { text: "Added greet()." };
    });
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    e2e.harness = await startAppHarness({ ...scriptedModelEnv(e2e.model), AGENT_WARM_AGENTS: "1" });
    nockInstallationToken(6);
    nockRole(repo, "octocat", "write");

    // 1. A first job: it takes an empty spare (the worker knew no repository yet).
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: e2e.remote.headSha });
    nockWorkerCalls(repo, { expectPullRequest: true });
    await postWebhook(e2e.harness.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet(name) in greet.js", repo }) });
    const first = await e2e.harness.waitForJob((job) => job.finishedAt !== null);
    expect(first.status).toBe("completed");

    // 2. The spare made behind it is a checkout of the repository, booted; then someone pushes to main.
    const spare = await e2e.harness.waitForWarmAgent("checkout");
    const requestsBefore = e2e.model.requests.length;
    const pushed = await pushCommit(e2e.remote, { branch: "main", files: { "NEWS.md": "news\n" }, message: "Add NEWS" });

    // 3. The next job on the repository, on the new head, takes it.
    nockAnnounce(repo, { issueNumber: 8, commentId: 9002, baseSha: pushed });
    nockSecondJob(repo);
    await postWebhook(e2e.harness.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet(name) in greet.js", repo, issueNumber: 8, commentId: 9002 }) });
    const second = await e2e.harness.waitForJob((job) => job.id !== first.id && job.finishedAt !== null && (job.status !== "completed" || job.parkedSandboxId !== null));
    expect(second).toMatchObject({ status: "completed", baseSha: pushed, parkedSandboxId: spare });

    // The boot asked no model anything: every request since is the job's own (explore, plan, build).
    const requests = e2e.model.requests.slice(requestsBefore);
    expect(requests.map((request) => request.model)).toEqual(["explore", "plan", "build", "build", "build"]);
    // The checkout as a fresh clone's: the job's branch at the new head, origin's main, nothing of the spare's, nothing untracked.
    const shown = requests[3]!.messages.map((message) => JSON.stringify(message.content)).join("\n");
    const branch = "agent/8-add-a-greeting-function";
    expect(shown).toContain(`REF refs/heads/${branch} ${pushed}`);
    expect(shown).toContain(`REF refs/remotes/origin/main ${pushed}`);
    expect(shown.match(/REF /g)).toHaveLength(2);
    expect(shown).toContain(`ORIGIN ${e2e.remote.url}`);
    expect(shown).toMatch(/EMAIL \d+\+running-agent\[bot\]@users\.noreply\.github\.com/);
    expect(shown).not.toMatch(/\?\? |!! /);
    expect(e2e.remote.git("rev-parse", `${branch}^`)).toBe(pushed);
    expect(e2e.remote.git("show", `${branch}:greet.js`)).toBe(GREET_SOURCE.trim());
    expect(existsSync(path.join(e2e.harness.dataDir, "sandboxes", spare, "workspace", "NEWS.md"))).toBe(true);
  });
});

/** The second job's own GitHub calls; its check run and comment updates go to the first job's (persisted) interceptors. */
function nockSecondJob(repo: RepoFixture): void {
  const path = `/repos/${repo.owner}/${repo.name}`;
  nockIssueContext(repo, { number: 8 });
  nock(GITHUB_API)
    .post(/\/app\/installations\/\d+\/access_tokens/)
    .reply(201, { token: REPO_TOKEN, expires_at: new Date(Date.now() + 3_600_000).toISOString() })
    .get(`${path}/pulls`)
    .query(true)
    .reply(200, [])
    .post(`${path}/pulls`)
    .reply(201, { number: 13, html_url: `https://github.com/${repo.owner}/${repo.name}/pull/13` });
}
