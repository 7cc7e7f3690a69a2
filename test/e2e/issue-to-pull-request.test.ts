import { describe, expect, it } from "vitest";
import { AGENT_JOB_RETRY_LIMIT } from "../../src/queue/boss.ts";
import { findJob, listJobEvents } from "../../src/store/job-queries.ts";
import { startModelServer, type Script } from "../fakes/model-server.ts";
import { API_TOKEN, startAppHarness } from "../support/app-harness.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { nockAnnounce, nockInstallationToken, nockRepositoryTokens, nockRole, nockWorkerCalls } from "../support/github-api.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { createGitRemote, GREET_SOURCE, GREETING_PROJECT } from "../support/git-remote.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { waitUntil } from "../support/wait-until.ts";
import { agentScript, requestsOf, scriptedModelEnv } from "../support/scripted-model.ts";

const e2e = useEndToEnd();

describe("a /agent comment on an issue becomes a pull request", () => {
  it("runs the real opencode agent, pushes a branch and opens the pull request", async () => {
    e2e.model = await startModelServer(
      agentScript({
        build: [
          [
            { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }], usage: { prompt_tokens: 1_000, completion_tokens: 50 } },
            { text: "Added greet() in greet.js, which greets a person by name.", usage: { prompt_tokens: 1_200, completion_tokens: 20 } },
          ],
        ],
      }),
    );
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    e2e.harness = await startAppHarness(scriptedModelEnv(e2e.model));
    nockInstallationToken(3);
    nockRole(repo, "octocat", "write");
    const announced = nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: e2e.remote.headSha });
    const seen = nockWorkerCalls(repo, { expectPullRequest: true });

    const response = await postWebhook(e2e.harness.url, {
      event: "issue_comment",
      secret: WEBHOOK_SECRET,
      payload: issueCommentPayload({ body: "/agent add a greet(name) function in greet.js", repo, issueTitle: "Add a greeting function" }),
    });
    expect(response.status).toBe(200);

    const job = await e2e.harness.waitForJob((candidate) => candidate.finishedAt !== null);
    await waitUntil(() => seen.checkRuns.at(-1)?.status === "completed" && seen.comments.at(-1)?.includes("/pull/12"), { what: "the final report on GitHub" });
    expect(job).toMatchObject({ status: "completed", testsPassed: true, prNumber: 12, iterations: 1, failureKind: null });
    expect(job.totalCost).toBeGreaterThan(0);
    expect(job.totalTokensIn).toBeGreaterThan(0);

    // The branch and its one commit, in the e2e.remote.
    const branch = "agent/7-add-a-greeting-function";
    expect(e2e.remote.git("show", `${branch}:greet.js`)).toBe(GREET_SOURCE.trim());
    expect(e2e.remote.git("rev-parse", `${branch}~1`)).toBe(e2e.remote.headSha);
    const message = e2e.remote.git("log", "-1", "--format=%B", branch);
    expect(message).toContain("Add a greeting function (#7)");
    expect(message).toContain("Co-authored-by: octocat <583231+octocat@users.noreply.github.com>");

    // GitHub saw: a scoped token, the pull request, the completed check run, the final comment.
    expect(seen.tokenRequest).toEqual({ repository_ids: [repo.id], permissions: { contents: "write" } });
    expect(seen.pullRequest).toMatchObject({ head: branch, base: "main", title: "Add a greeting function", draft: false });
    expect(String(seen.pullRequest?.body)).toContain("Closes #7");
    expect(String(seen.pullRequest?.body)).toContain("Added greet() in greet.js");
    expect(seen.checkRuns.at(-1)).toMatchObject({ status: "completed", conclusion: "success" });
    expect(seen.checkRuns.some((body) => body.status === "in_progress")).toBe(true);
    const finalComment = seen.comments.at(-1) ?? "";
    expect(finalComment).toContain("https://github.com/octo-org/hello-world/pull/12");
    expect(finalComment).toContain("| Tests | passed |");
    expect(finalComment).toMatch(/\| Cost \| \$0\.\d{4} \|/);
    expect(String(announced.seen.comment?.body)).toContain("queued");

    // The agent was given the task as fenced data, and never a token.
    const prompt = JSON.stringify(requestsOf(e2e.model!, "build")[0]?.messages);
    expect(prompt).toContain("add a greet(name) function in greet.js");
    for (const request of e2e.model!.requests) expect(JSON.stringify(request)).not.toContain("ghs_");

    // The API reports the result; the sandbox is parked for a follow-up on the pull request, nothing left running in it.
    const api = await fetch(`${e2e.harness.url}/api/jobs/${job.id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const body = (await api.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "completed", pr_url: "https://github.com/octo-org/hello-world/pull/12", tests_passed: true, iterations: 1, debug_mode: false, resumed_from_checkpoint: false, exploration_report_generated: true });
    expect(body.logs).toEqual(expect.arrayContaining([expect.objectContaining({ kind: "check", message: "test: passed" })]));
    // What the agent did is in the log as it happened, with the phases on a time axis and the files its work changed.
    expect(body.logs).toEqual(expect.arrayContaining([expect.objectContaining({ kind: "tool", message: expect.stringMatching(/^write: .*greet\.js/), data: expect.objectContaining({ tool: "write", status: "completed", phase: "build" }) })]));
    expect((body.logs as Array<{ kind: string; message: string }>).at(-1)).toMatchObject({ kind: "finished", message: "job completed" });
    expect((body.phases as Array<{ name: string }>).map((phase) => phase.name)).toEqual(["prepare", "explore", "plan", "build", "verify", "deliver"]);
    expect(body.phases).toEqual(expect.arrayContaining([expect.objectContaining({ name: "build", round: 1, duration_ms: expect.any(Number), tokens_in: 2_200 })]));
    expect(body.changed_files).toEqual(["greet.js"]);
    const parked = (await findJob(e2e.harness.database.db, job.id))!.parkedSandboxId;
    expect(parked).toMatch(new RegExp(`^${job.id}-[0-9a-f]{8}$`));
    expect(await e2e.harness.sandboxDirs()).toEqual([parked]);
  });
});

describe("every failure ends on the thread in plain words", () => {
  /** Start the app, deliver `/agent …`, and wait for the job's final report on GitHub. */
  async function runFailingJob(options: { script: Script; cloneUrl?: string; baseSha?: string; attempts?: number }) {
    e2e.model = await startModelServer(options.script);
    const repo = testRepo({ cloneUrl: options.cloneUrl ?? e2e.remote.url });
    e2e.harness = await startAppHarness(scriptedModelEnv(e2e.model));
    nockInstallationToken(3);
    nockRole(repo, "octocat", "write");
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: options.baseSha ?? e2e.remote.headSha });
    const seen = nockWorkerCalls(repo, { expectPullRequest: false });
    if ((options.attempts ?? 1) > 1) nockRepositoryTokens(options.attempts! - 1);
    await postWebhook(e2e.harness.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet()", repo }) });
    const job = await e2e.harness.waitForJob((candidate) => candidate.finishedAt !== null);
    await waitUntil(() => seen.checkRuns.at(-1)?.status === "completed" && seen.comments.some((body) => body.includes("failed")), { what: "the final report on GitHub" });
    expect(await e2e.harness.sandboxDirs()).toEqual([]);
    return { job, seen, finalComment: seen.comments.at(-1) ?? "" };
  }

  it("reports a model API failure (HTTP 500 after opencode's retries, and the queue's)", async () => {
    const { job, seen, finalComment } = await runFailingJob({ script: () => ({ status: 500, retryAfterMs: 5 }), attempts: AGENT_JOB_RETRY_LIMIT });
    // A provider failing with 5xx may be down for a while: the job was tried again later, as many times as the queue allows.
    expect(job).toMatchObject({ status: "failed", failureKind: "model", prUrl: null, attempts: AGENT_JOB_RETRY_LIMIT });
    const events = await listJobEvents(e2e.harness!.database.db, job.id);
    expect(events.filter((event) => event.kind === "requeued").map((event) => event.message)).toEqual(
      Array.from({ length: AGENT_JOB_RETRY_LIMIT - 1 }, () => expect.stringContaining("temporary failure, will retry: The model provider failed (HTTP 500)")),
    );
    expect(seen.checkRuns.at(-1)).toMatchObject({ status: "completed", conclusion: "failure", output: { title: "Failed: the model or its API failed" } });
    expect(finalComment).toContain("failed: the model or its API failed");
    expect(finalComment).toContain("**What to do next:**");
    // opencode retried the provider itself before giving up.
    expect(e2e.model!.requests.filter((request) => request.tools?.length).length).toBeGreaterThan(1);
    expect(e2e.remote.git("branch", "--list", "agent/*")).toBe("");
  });

  it("reports a clone failure without retrying a permanent one", async () => {
    const { job, finalComment } = await runFailingJob({ script: agentScript({ build: [] }), cloneUrl: `file://${e2e.remote.bareDir}-missing` });
    expect(job).toMatchObject({ status: "failed", failureKind: "clone", attempts: 1 });
    expect(finalComment).toContain("failed: cloning the repository failed");
    expect(e2e.model!.requests).toEqual([]);
  });

  it("reports an agent that changed nothing", async () => {
    const idle = [{ text: "I looked around and everything is fine." }];
    const { job, finalComment } = await runFailingJob({ script: agentScript({ build: [idle, idle, idle] }) });
    expect(job).toMatchObject({ status: "failed", failureKind: "no_changes" });
    expect(finalComment).toContain("the agent made no changes");
    expect(finalComment).toContain("I looked around and everything is fine.");
  });

  it("reports a malformed .github/agent.yml with its line numbers, before any agent runs", async () => {
    const broken = await createGitRemote({ ...GREETING_PROJECT, ".github/agent.yml": "commands:\n  test: npm test\n  tset: oops\n" });
    try {
      const { job, finalComment } = await runFailingJob({ script: agentScript({ build: [] }), cloneUrl: broken.url, baseSha: broken.headSha });
      expect(job).toMatchObject({ status: "failed", failureKind: "config" });
      expect(finalComment).toContain("failed: the repository's agent config is invalid");
      expect(finalComment).toContain("> - line 3: commands: ");
      expect(e2e.model!.requests).toEqual([]);
    } finally {
      await broken.cleanup();
    }
  });

  it("reports a rejected push, and never overwrites someone else's branch", async () => {
    // Someone already has a branch of that name with their own commit.
    const other = e2e.remote.git("commit-tree", "-p", e2e.remote.headSha, "-m", "someone else's work", `${e2e.remote.headSha}^{tree}`);
    e2e.remote.git("update-ref", "refs/heads/agent/7-add-a-greeting-function", other);
    const { job, finalComment } = await runFailingJob({
      script: agentScript({ build: [[{ toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] }, { text: "Added greet()." }]] }),
    });
    expect(job).toMatchObject({ status: "failed", failureKind: "push" });
    expect(finalComment).toContain("pushing the branch was rejected");
    expect(e2e.remote.git("rev-parse", "agent/7-add-a-greeting-function")).toBe(other);
  });
});
