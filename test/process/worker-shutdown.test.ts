/**
 * SIGTERM on a worker process (what a deploy or a scale-in sends) while the agent is at
 * work: the process hands the job back to the queue, removes the sandbox and exits 0.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OWNER_MARKER, SPARE_NAME } from "../../src/sandbox/local-sandbox.ts";
import { findJob, listJobEvents } from "../../src/store/job-queries.ts";
import { describeRequests, unexpectedRequests } from "../fakes/fake-github.ts";
import { processesUnder } from "../sandbox/processes.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { useProcessEnvironment } from "../support/process-environment.ts";
import { agentScript, requestsOf } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

// Explore and plan answer; the build agent's model never does: mid-build for as long as the test likes.
const env = useProcessEnvironment(() => agentScript({ build: [[{ hang: true }]] }));
const start = env.start;

describe("SIGTERM on a worker process", () => {
  // Explore and plan run first; with the write pacing of a real process that takes a while.
  it("hands the running job back to the queue, removes its sandbox and exits 0", async () => {
    const [web, worker] = await Promise.all([start("web"), start("worker")]);
    const repo = testRepo({ cloneUrl: env.remote.url });
    const response = await postWebhook(web.url!, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet()", repo }) });
    expect(response.status).toBe(200);

    await waitUntil(() => requestsOf(env.model, "build").length > 0, { what: "the build agent to ask the model" }).catch((error: Error) => {
      throw new Error(`${error.message}\nGitHub saw:\n${describeRequests(env.github.requests)}\n--- worker:\n${worker.output().slice(-8_000)}`, { cause: error });
    });
    const { rows } = await env.database.pool.query<{ id: string }>("select id from jobs");
    expect(rows).toHaveLength(1);
    const jobId = rows[0]!.id;
    expect(await findJob(env.database.db, jobId)).toMatchObject({ status: "running", phase: "build" });
    const sandboxes = path.join(worker.dataDir, "sandboxes");
    // The job's, and perhaps the warm agent made to replace the one it took (no job's yet).
    const untakenSpare = (name: string) => SPARE_NAME.test(name) && !existsSync(path.join(sandboxes, name, OWNER_MARKER));
    expect(readdirSync(sandboxes).filter((name) => !untakenSpare(name))).toHaveLength(1);

    expect(await worker.stop("SIGTERM")).toBe(0);

    const job = await findJob(env.database.db, jobId);
    expect(job).toMatchObject({ status: "queued", finishedAt: null, failureKind: null });
    const events = await listJobEvents(env.database.db, jobId);
    expect(events.at(-1)).toMatchObject({ kind: "requeued", message: "the worker is stopping; another worker will continue this job" });
    const queued = await env.database.pool.query<{ state: string }>("select state from pgboss.job where data->>'jobId' = $1", [jobId]);
    expect(queued.rows.map((row) => row.state)).toEqual(["retry"]);

    // Nothing left behind: no sandbox directory (the spare's neither), no process of the agent's.
    expect(readdirSync(sandboxes)).toEqual([]);
    expect(processesUnder(sandboxes)).toEqual([]);
    // Handed back, not failed: the check run stays open for the next worker.
    expect(env.github.requests.filter((request) => request.route === "checks.update" && (request.body as { status?: string }).status === "completed")).toEqual([]);
    expect(unexpectedRequests(env.github.requests)).toEqual([]);
  });
});
