import { describe, expect, it } from "vitest";
import { listJobEvents } from "../../src/store/job-queries.ts";
import { startModelServer } from "../fakes/model-server.ts";
import { startAppHarness } from "../support/app-harness.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { nockAnnounce, nockInstallationToken, nockRole, nockWorkerCalls } from "../support/github-api.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { GREET_SOURCE } from "../support/git-remote.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { agentScript, requestsOf, scriptedModelEnv } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const e2e = useEndToEnd();

const writeGreet = { toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] };

describe("transient failures and stopping workers", () => {
  it("retries a GitHub 5xx while opening the pull request from its checkpoint, without redoing the work", async () => {
    e2e.model = await startModelServer(agentScript({ build: [[writeGreet, { text: "Added greet()." }]] }));
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    e2e.harness = await startAppHarness(scriptedModelEnv(e2e.model));
    nockInstallationToken(3);
    nockRole(repo, "octocat", "write");
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: e2e.remote.headSha });
    const seen = nockWorkerCalls(repo, { expectPullRequest: true, pullRequestFailures: 1 });

    await postWebhook(e2e.harness.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet()", repo }) });
    const job = await e2e.harness.waitForJob((candidate) => candidate.finishedAt !== null);
    await waitUntil(() => seen.checkRuns.at(-1)?.status === "completed", { what: "the check run to complete" });

    expect(job).toMatchObject({ status: "completed", attempts: 2, resumedFromCheckpoint: true, prNumber: 12 });
    const events = await listJobEvents(e2e.harness.database.db, job.id);
    expect(events.map((event) => event.kind)).toEqual(expect.arrayContaining(["requeued", "resumed"]));
    expect(events.find((event) => event.kind === "requeued")?.message).toContain("HTTP 502");
    // One agent run, one commit: the retry did not build or push again.
    expect(requestsOf(e2e.model!, "build")).toHaveLength(2);
    expect(requestsOf(e2e.model!, "explore")).toHaveLength(1);
    expect(e2e.remote.git("rev-list", "--count", `${e2e.remote.headSha}..agent/7-add-a-greeting-function`)).toBe("1");
    expect(seen.checkRuns.at(-1)).toMatchObject({ conclusion: "success" });
  });

  it("hands a running job back to the queue when its worker stops, and cleans up", async () => {
    e2e.model = await startModelServer(() => ({ hang: true }));
    const repo = testRepo({ cloneUrl: e2e.remote.url });
    e2e.harness = await startAppHarness(scriptedModelEnv(e2e.model));
    nockInstallationToken(3);
    nockRole(repo, "octocat", "write");
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: e2e.remote.headSha });
    const seen = nockWorkerCalls(repo, { expectPullRequest: false });

    await postWebhook(e2e.harness.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet()", repo }) });
    await waitUntil(() => e2e.model!.requests.some((request) => request.tools?.length), { what: "the agent to ask the model" });

    await e2e.harness.app.stop();

    const job = await e2e.harness.waitForJob(() => true);
    expect(job).toMatchObject({ status: "queued", finishedAt: null, failureKind: null });
    const events = await listJobEvents(e2e.harness.database.db, job.id);
    expect(events.at(-1)).toMatchObject({ kind: "requeued", message: "the worker is stopping; another worker will continue this job" });
    expect(await e2e.harness.sandboxDirs()).toEqual([]);
    expect(seen.checkRuns.some((body) => body.status === "completed")).toBe(false);
    const queued = await e2e.harness.database.pool.query("select state from pgboss.job where data->>'jobId' = $1", [job.id]);
    expect(queued.rows.map((row) => row.state)).toEqual(["retry"]);
  });
});
