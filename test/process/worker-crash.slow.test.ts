/**
 * A worker SIGKILLed mid-build (a lost machine, the OOM killer): its heartbeat stops, and
 * another worker takes the job over from its checkpoint, without asking the explore and
 * plan agents again.
 */
import { describe, expect, it } from "vitest";
import { findJob, listJobEvents } from "../../src/store/job-queries.ts";
import type { ModelRequest, Script } from "../fakes/model-server.ts";
import { GREET_SOURCE } from "../support/git-remote.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { useProcessEnvironment } from "../support/process-environment.ts";
import { agentScript, requestsOf } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

/** The first build request never gets an answer: that worker is killed while it waits. */
function killableScript(): Script {
  const script = agentScript({ build: [[{ toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] }, { text: "Added greet()." }]] });
  let firstBuild = true;
  return (request: ModelRequest) => {
    if (request.agent === "build" && firstBuild) {
      firstBuild = false;
      return { hang: true };
    }
    return typeof script === "function" ? script(request) : { text: "unreachable" };
  };
}

// The shortest heartbeat pg-boss allows, so the takeover happens within seconds.
const env = useProcessEnvironment(killableScript, { AGENT_HEARTBEAT_SECONDS: "10" });
const start = env.start;

describe("a worker killed mid-build", () => {
  it("has its job taken over by another worker, which resumes at build", async () => {
    const [web, first] = await Promise.all([start("web"), start("worker")]);
    const repo = testRepo({ cloneUrl: env.remote.url });
    await postWebhook(web.url!, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet()", repo }) });
    await waitUntil(() => requestsOf(env.model, "build").length > 0, { what: "the build agent to ask the model" });
    const { rows } = await env.database.pool.query<{ id: string }>("select id from jobs");
    const jobId = rows[0]!.id;

    first.kill();
    await first.exited;
    const second = await start("worker");
    const job = await waitUntil(
      async () => {
        const current = await findJob(env.database.db, jobId);
        return current?.finishedAt ? current : undefined;
      },
      { what: "another worker to finish the job" },
    ).catch(async (error: Error) => {
      const queue = await env.database.pool.query("select state, retry_count, heartbeat_on, heartbeat_seconds, started_on from pgboss.job where data->>'jobId' = $1", [jobId]);
      throw new Error(`${error.message}\nqueue: ${JSON.stringify(queue.rows)}\njob: ${JSON.stringify(await findJob(env.database.db, jobId))}\n--- second worker:\n${second.output().slice(-6_000)}`, { cause: error });
    });

    expect(job).toMatchObject({ status: "completed", attempts: 2, resumedFromCheckpoint: true, testsPassed: true });
    // Explore and plan ran once, on the first worker; the second went straight to build.
    expect(requestsOf(env.model, "explore").filter((request) => request.messages.at(-1)?.role === "user")).toHaveLength(1);
    expect(requestsOf(env.model, "plan").filter((request) => request.messages.at(-1)?.role === "user")).toHaveLength(1);
    const events = await listJobEvents(env.database.db, jobId);
    expect(events.find((event) => event.kind === "resumed")?.message).toBe("resuming from the checkpoint after: explore, plan");
    expect(env.remote.git("show", "agent/7-add-a-greeting-function:greet.js")).toBe(GREET_SOURCE.trim());
    expect(env.github.pullRequests).toHaveLength(1);
  });
});
