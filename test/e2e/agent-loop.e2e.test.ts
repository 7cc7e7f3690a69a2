import { describe, expect, it } from "vitest";
import { listJobEvents } from "../../src/store/job-queries.ts";
import { startModelServer, type ModelServer, type Script, type Turn } from "../fakes/model-server.ts";
import { startAppHarness } from "../support/app-harness.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { nockAnnounce, nockInstallationToken, nockRole, nockWorkerCalls } from "../support/github-api.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { GREET_SOURCE } from "../support/git-remote.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { agentScript, GREET_PLAN, requestsOf, scriptedModelEnv } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const e2e = useEndToEnd();

const BRANCH = "agent/7-add-a-greeting-function";
const write = (content: string): Turn => ({ toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content } }] });
const WRONG_GREET = 'exports.greet = (name) => `Hi, ${name}`;\n';

/** Deliver `/agent …` and wait until the job is over and GitHub has its final report. */
async function runJob(script: Script, options: { env?: Record<string, string>; expectPullRequest?: boolean; costPerMillion?: { input: number; output: number } } = {}) {
  e2e.model = await startModelServer(script);
  const repo = testRepo({ cloneUrl: e2e.remote.url });
  e2e.harness = await startAppHarness({ ...scriptedModelEnv(e2e.model, options.costPerMillion ? { costPerMillion: options.costPerMillion } : {}), ...options.env });
  nockInstallationToken(3);
  nockRole(repo, "octocat", "write");
  nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: e2e.remote.headSha });
  const seen = nockWorkerCalls(repo, { expectPullRequest: options.expectPullRequest ?? true });
  await postWebhook(e2e.harness.url, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add greet(name) in greet.js", repo }) });
  const job = await e2e.harness.waitForJob((candidate) => candidate.finishedAt !== null);
  await waitUntil(() => seen.checkRuns.at(-1)?.status === "completed", { what: "the check run to complete" });
  const events = await listJobEvents(e2e.harness.database.db, job.id);
  return { job, seen, events, model: e2e.model! };
}

const userText = (request: ModelServer["requests"][number]) => JSON.stringify(request.messages.filter((message) => message.role === "user").at(-1)?.content);

describe("the agent loop: explore → plan → build ⟲ verify", () => {
  it("passes first try, with each phase's usage recorded and the plan shown in the check run", async () => {
    const { job, seen, model } = await runJob(agentScript({ build: [[write(GREET_SOURCE), { text: "Added greet()." }]] }));

    expect(job).toMatchObject({ status: "completed", iterations: 1, testsPassed: true, debugMode: false, explorationReportGenerated: true });
    expect(Object.keys(job.usageByPhase).sort()).toEqual(["build", "explore", "plan"]);
    for (const usage of Object.values(job.usageByPhase)) expect(usage.cost).toBeGreaterThan(0);
    expect(job.totalCost).toBeCloseTo(Object.values(job.usageByPhase).reduce((sum, usage) => sum + usage.cost, 0), 10);
    // The explore agent got the repository map; the plan reached the build agent and the check run.
    expect(userText(requestsOf(model, "explore")[0]!)).toContain("greet.test.js");
    expect(userText(requestsOf(model, "build")[0]!)).toContain(GREET_PLAN.steps[0]!.title);
    const summaries = seen.checkRuns.map((body) => String((body.output as { summary?: string } | undefined)?.summary ?? ""));
    expect(summaries.some((summary) => summary.includes("### Plan") && summary.includes(GREET_PLAN.steps[0]!.title))).toBe(true);
    expect(seen.pullRequest).toMatchObject({ draft: false });
  });

  it("feeds the extracted test failure back and passes on the second round", async () => {
    const { job, model } = await runJob(agentScript({ build: [[write(WRONG_GREET), { text: "Added greet()." }], [write(GREET_SOURCE), { text: "Fixed the greeting." }]] }));

    expect(job).toMatchObject({ status: "completed", iterations: 2, testsPassed: true, debugMode: false });
    const rounds = requestsOf(model, "build").filter((request) => request.messages.at(-1)?.role === "user");
    expect(rounds).toHaveLength(2);
    const feedback = userText(rounds[1]!);
    expect(feedback).toContain("checks failed");
    expect(feedback).toContain("Hello, Ada!");
    expect(feedback).not.toContain("DEBUG MODE");
  });

  it("switches to debug mode when the same error comes back, and opens a draft when it never passes", async () => {
    const stuck = [write(WRONG_GREET), { text: "Tried again." }];
    const { job, seen, model } = await runJob(agentScript({ build: [stuck, stuck, stuck] }));

    expect(job).toMatchObject({ status: "completed", iterations: 3, testsPassed: false, debugMode: true });
    const rounds = requestsOf(model, "build").filter((request) => request.messages.at(-1)?.role === "user");
    expect(rounds.map((request) => userText(request).includes("DEBUG MODE"))).toEqual([false, false, true]);
    expect(userText(rounds[2]!)).toContain("Reproduce");
    expect(seen.pullRequest).toMatchObject({ draft: true });
    expect(String(seen.pullRequest?.body)).toContain("What still fails");
    expect(seen.checkRuns.at(-1)).toMatchObject({ conclusion: "failure" });
  });

  it("keeps explore and plan read-only: their writes change nothing", async () => {
    const sneaky = (file: string): Turn => ({ toolCalls: [{ name: "write", arguments: { filePath: file, content: "pwned\n" } }] });
    const script = agentScript({
      explore: [[sneaky("from-explore.txt"), { text: "## Relevant files\n- greet.test.js" }]],
      plan: [[sneaky("from-plan.txt"), { text: "```json\n" + JSON.stringify(GREET_PLAN) + "\n```" }]],
      build: [[write(GREET_SOURCE), { text: "Added greet()." }]],
    });
    const { job, model } = await runJob(script);

    expect(job.status).toBe("completed");
    expect(e2e.remote.git("diff", "--name-only", `${e2e.remote.headSha}..${BRANCH}`)).toBe("greet.js");
    for (const agent of ["explore", "plan"]) {
      const offered = requestsOf(model, agent).flatMap((request) => (request.tools ?? []).map((tool) => tool.function?.name));
      expect(offered).not.toContain("write");
      expect(offered).not.toContain("edit");
      expect(offered).not.toContain("bash");
    }
  });

  it("gets one corrective re-prompt when the plan has no steps", async () => {
    const script = agentScript({ plan: [[{ text: "I would add a function." }], [{ text: "```json\n" + JSON.stringify(GREET_PLAN) + "\n```" }]], build: [[write(GREET_SOURCE), { text: "Added greet()." }]] });
    const { job, model, events } = await runJob(script);

    expect(job.status).toBe("completed");
    expect(requestsOf(model, "plan").filter((request) => request.messages.at(-1)?.role === "user")).toHaveLength(2);
    expect(events.map((event) => event.message)).toContain("the plan had no steps; asking once more for the expected format");
  });

  it("stops at the cost budget in the middle of the build, with no pull request", async () => {
    // $1,000 per million tokens: explore and plan cost $0.11 each, the build's first reply $2.
    const expensive: Turn = { ...write(GREET_SOURCE), usage: { prompt_tokens: 2_000, completion_tokens: 10 } };
    const { job, seen } = await runJob(agentScript({ build: [[expensive, { text: "never reached" }]] }), {
      env: { AGENT_MAX_COST_USD: "1" },
      costPerMillion: { input: 1_000, output: 1_000 },
      expectPullRequest: false,
    });

    expect(job).toMatchObject({ status: "failed", failureKind: "budget", prUrl: null });
    expect(job.totalCost).toBeGreaterThan(1);
    expect(seen.checkRuns.at(-1)).toMatchObject({ conclusion: "failure", output: expect.objectContaining({ title: "Failed: cost budget reached" }) });
    expect(e2e.remote.git("branch", "--list", "agent/*")).toBe("");
  });

  it("ends a job that runs past its time limit as timed_out", async () => {
    const { job, seen } = await runJob(agentScript({ build: [[{ hang: true }]] }), { env: { AGENT_TIMEOUT_MINUTES: "0.1" }, expectPullRequest: false });

    expect(job).toMatchObject({ status: "timed_out", failureKind: "timeout" });
    expect(seen.checkRuns.at(-1)).toMatchObject({ conclusion: "timed_out" });
    expect(await e2e.harness!.sandboxDirs()).toEqual([]);
  });
});
