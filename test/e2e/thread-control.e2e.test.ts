import nock from "nock";
import { describe, expect, it } from "vitest";
import { jobs } from "../../src/store/jobs.sql.ts";
import { startModelServer, type ModelRequest, type Turn } from "../fakes/model-server.ts";
import { startAppHarness } from "../support/app-harness.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { GITHUB_API, nockAnnounce, nockInstallationToken, nockIssueContext, nockRole, nockWorkerCalls, recordJson, REPO_TOKEN } from "../support/github-api.ts";
import { INSTALLATION_ID, issueCommentPayload, issueLabeledPayload, postWebhook, testRepo, type RepoFixture } from "../support/github-fixtures.ts";
import { GREET_SOURCE } from "../support/git-remote.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { agentScript, requestsOf, scriptedModelEnv } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const e2e = useEndToEnd();

const BRANCH = "agent/7-add-a-greeting-function";
const write = (file: string, content: string): Turn => ({ toolCalls: [{ name: "write", arguments: { filePath: file, content } }] });
const defaultScript = agentScript({ build: [] }) as (request: ModelRequest) => Turn;

async function comment(repo: RepoFixture, body: string, commentId: number): Promise<void> {
  await postWebhook(e2e.harness!.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body, repo, commentId }) });
}

function nockReaction(repo: RepoFixture, commentId: number, content: string): nock.Scope {
  return nock(GITHUB_API).post(`/repos/${repo.owner}/${repo.name}/issues/comments/${commentId}/reactions`, { content }).reply(201, { id: commentId });
}

function nockRepositoryToken(): nock.Scope {
  return nock(GITHUB_API)
    .post(`/app/installations/${INSTALLATION_ID}/access_tokens`, (body: Record<string, unknown>) => Boolean(body?.repository_ids))
    .reply(201, { token: REPO_TOKEN, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
}

describe("steering a job from the thread", () => {
  it("cancels a running job within seconds: the agent is stopped, the sandbox removed, the check run cancelled", async () => {
    e2e.model = await startModelServer(agentScript({ build: [[{ hang: true }]] }));
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    e2e.harness = await startAppHarness(scriptedModelEnv(e2e.model));
    nockInstallationToken(3);
    nockRole(repo, "octocat", "write");
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: e2e.remote.headSha });
    const seen = nockWorkerCalls(repo, { expectPullRequest: false });
    nockReaction(repo, 9002, "+1");

    await comment(repo, "/agent add greet(name) in greet.js", 9001);
    await e2e.harness.waitForJob((job) => job.phase === "build" && requestsOf(e2e.model!, "build").length > 0);
    await comment(repo, "/agent cancel", 9002);
    // The acceptance criterion is "within seconds": the worker polls for cancels every second.
    const job = await e2e.harness.waitForJob((candidate) => candidate.status === "cancelled", 5_000);
    await waitUntil(() => seen.checkRuns.at(-1)?.status === "completed", { what: "the check run to complete" });

    expect(job).toMatchObject({ failureKind: "cancelled", failureMessage: "cancelled by @octocat", cancelRequestedBy: "@octocat", prUrl: null });
    expect(seen.checkRuns.at(-1)).toMatchObject({ conclusion: "cancelled" });
    expect(seen.comments.at(-1)).toContain("was cancelled by @octocat");
    await waitUntil(async () => (await e2e.harness!.sandboxDirs()).length === 0, { what: "the sandbox to be removed" });
    expect(e2e.remote.git("branch", "--list", "agent/*")).toBe("");
  });

  it("retries a failed job from its checkpoint: explore and plan are not asked again, the budget starts afresh", async () => {
    // $1,000 per million tokens and a $1 budget: the first build reply ($2) ends the first run.
    let expensive = true;
    e2e.model = await startModelServer((request: ModelRequest): Turn => {
      if (request.agent !== "build" || request.tools.length === 0) return defaultScript(request);
      if (request.turnIndex > 0) return { text: "Added greet()." };
      const turn = write("greet.js", GREET_SOURCE);
      if (!expensive) return turn;
      expensive = false;
      return { ...turn, usage: { prompt_tokens: 2_000, completion_tokens: 10 } };
    });
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    e2e.harness = await startAppHarness({ ...scriptedModelEnv(e2e.model, { costPerMillion: { input: 1_000, output: 1_000 } }), AGENT_MAX_COST_USD: "1" });
    nockInstallationToken(4);
    nockRole(repo, "octocat", "write");
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: e2e.remote.headSha });
    const seen = nockWorkerCalls(repo, { expectPullRequest: true });

    await comment(repo, "/agent add greet(name) in greet.js", 9001);
    const failed = await e2e.harness.waitForJob((job) => job.status === "failed");
    await waitUntil(() => seen.checkRuns.at(-1)?.status === "completed", { what: "the failed check run" });
    expect(failed).toMatchObject({ failureKind: "budget" });
    expect(seen.checkRuns.at(-1)).toMatchObject({ conclusion: "failure", actions: [expect.objectContaining({ identifier: "retry" })] });

    const retried: Array<Record<string, unknown>> = [];
    nockReaction(repo, 9003, "+1");
    nockRepositoryToken();
    nock(GITHUB_API)
      .post(`/repos/${repo.owner}/${repo.name}/check-runs`)
      .reply(201, recordJson(() => ({ id: 6002 })))
      .persist()
      .patch(`/repos/${repo.owner}/${repo.name}/check-runs/6002`)
      .reply(200, recordJson((body) => (retried.push(body), { id: 6002 })));
    await comment(repo, "/agent retry", 9003);
    const job = await e2e.harness.waitForJob((candidate) => candidate.status === "completed");
    await waitUntil(() => retried.at(-1)?.status === "completed", { what: "the new check run to complete" });

    expect(job).toMatchObject({ id: failed.id, resumedFromCheckpoint: true, checkRunId: 6002, costBaseline: failed.totalCost, prNumber: 12 });
    expect(job.totalCost).toBeGreaterThan(failed.totalCost);
    const prompts = (agent: string) => requestsOf(e2e.model!, agent).filter((request) => request.messages.at(-1)?.role === "user");
    expect(prompts("explore")).toHaveLength(1);
    expect(prompts("plan")).toHaveLength(1);
    expect(prompts("build")).toHaveLength(2);
    expect(retried.at(-1)).toMatchObject({ conclusion: "success" });
    expect(seen.pullRequest).toMatchObject({ head: BRANCH });
  });

  // A second `/agent` comment while the job builds is a message to it (test/e2e/thread-messages.test.ts); the label is a job of its own.
  it("queues a second request (the label) on the thread behind the running one, says so, and runs it after", async () => {
    let builds = 0;
    e2e.model = await startModelServer((request: ModelRequest): Turn => {
      if (request.agent !== "build" || request.tools.length === 0) return defaultScript(request);
      if (request.turnIndex > 0) return { text: "Done." };
      builds += 1;
      // The first job's build takes a moment (a tool call that sleeps), so the second request arrives while it runs.
      if (builds === 1) return { toolCalls: [{ name: "bash", arguments: { command: "sleep 2", description: "wait" } }, { name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] };
      return write("NOTES.md", "second request\n");
    });
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    e2e.harness = await startAppHarness(scriptedModelEnv(e2e.model));
    const path = `/repos/${repo.owner}/${repo.name}`;
    const comments = new Map<number, string>();
    let nextId = 0;
    const pullRequest = { number: 12, html_url: `https://github.com/${path}/pull/12` };
    let pullRequestOpen = false;
    const posted: string[] = [];
    nockInstallationToken(6);
    nockRole(repo, "octocat", "write");
    nockRepositoryToken();
    nockRepositoryToken();
    nockReaction(repo, 9001, "eyes");
    nock(GITHUB_API).post(`/repos/${repo.owner}/${repo.name}/issues/7/reactions`, { content: "eyes" }).reply(201, { id: 1 });
    nockIssueContext(repo, { number: 7 });
    nock(GITHUB_API)
      .persist()
      .post(`${path}/issues/7/comments`)
      .reply(201, recordJson<{ body: string }>((body) => (nextId += 1, posted.push(body.body), comments.set(5000 + nextId, body.body), { id: 5000 + nextId })))
      .patch(/\/issues\/comments\/\d+$/)
      .reply(200, recordJson<{ body: string }>((body, url) => (comments.set(Number(url.split("/").at(-1)), body.body), { id: 1 })))
      .get(`${path}/git/ref/heads%2Fmain`)
      .reply(200, { object: { sha: e2e.remote.headSha } })
      .post(`${path}/check-runs`)
      .reply(201, () => ({ id: 6000 + nextId }))
      .patch(/\/check-runs\/\d+$/)
      .reply(200, { id: 1 })
      // The branch: absent for the first job, the first job's for the second.
      .get(`${path}/git/ref/${encodeURIComponent(`heads/${BRANCH}`)}`)
      .reply(() => {
        const sha = e2e.remote.git("branch", "--list", BRANCH) === "" ? null : e2e.remote.git("rev-parse", BRANCH);
        return sha ? [200, { object: { sha } }] : [404, { message: "Not Found" }];
      })
      .get(`${path}/pulls`)
      .query(true)
      .reply(() => [200, pullRequestOpen ? [pullRequest] : []])
      .post(`${path}/pulls`)
      .reply(() => ((pullRequestOpen = true), [201, pullRequest]))
      .patch(`${path}/pulls/12`)
      .reply(200, pullRequest);

    await comment(repo, "/agent add greet(name) in greet.js", 9001);
    await e2e.harness.waitForJob((job) => job.status === "running");
    await postWebhook(e2e.harness.url, { event: "issues", secret: WEBHOOK_SECRET, payload: issueLabeledPayload({ label: "agent", repo }) });
    await waitUntil(async () => (await e2e.harness!.database.db.select().from(jobs)).every((job) => job.status === "completed") && comments.size === 2, {
      what: "both jobs to succeed",
    });

    const [first, second] = (await e2e.harness.database.db.select().from(jobs)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    // The second job's first comment said it was waiting; it started only after the first ended.
    expect(second!.startedAt!.getTime()).toBeGreaterThanOrEqual(first!.finishedAt!.getTime());
    expect(second).toMatchObject({ branch: BRANCH, baseBranch: BRANCH, prNumber: 12 });
    const head = e2e.remote.git("rev-parse", BRANCH);
    expect(e2e.remote.git("rev-parse", `${head}^`)).toBe((first!.checkpoint as { pushed: { sha: string } }).pushed.sha);
    expect(posted[1]).toContain("Waiting");
    await waitUntil(() => comments.get(5002)?.includes("/pull/12"), { what: "the second job's final report" });
    expect(e2e.remote.git("show", `${head}:NOTES.md`)).toBe("second request");
  });
});
