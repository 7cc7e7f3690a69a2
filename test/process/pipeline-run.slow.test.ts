/**
 * `/agent run <pipeline>` end to end, as production runs it: a web process and two
 * workers on one database, the fake GitHub over HTTP, the real opencode binary against
 * the scripted model. Each step is an agent job; the model tells steps apart by the
 * "Step `<name>` of the pipeline" line their prompts carry.
 */
import { describe, expect, it, type TestContext } from "vitest";
import { eq } from "drizzle-orm";
import { findJob } from "../../src/store/job-queries.ts";
import { jobs, type Job } from "../../src/store/jobs.sql.ts";
import { pipelineRuns, type PipelineRun } from "../../src/store/pipeline-runs.sql.ts";
import { describeRequests, unexpectedRequests } from "../fakes/fake-github.ts";
import type { Script } from "../fakes/model-server.ts";
import { GREET_SOURCE, GREETING_PROJECT } from "../support/git-remote.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { startProcessEnvironment, type OwnedProcessEnvironment } from "../support/process-environment.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { buildTogether, SHIP_PIPELINE, stepScripts, writeFile } from "../support/pipeline-scripts.ts";
import { waitUntil } from "../support/wait-until.ts";


/** The greeting project with its tests passing already: steps add to it. */
const PASSING_PROJECT = { ...GREETING_PROJECT, "greet.js": GREET_SOURCE };

const write = writeFile;

async function startPipelineScenario(context: TestContext, agentYml: string, script: Script): Promise<OwnedProcessEnvironment> {
  const environment = await startProcessEnvironment(script, { WORKER_CONCURRENCY: "2", AGENT_MAX_ITERATIONS: "1" }, { ...PASSING_PROJECT, ".github/agent.yml": agentYml });
  context.onTestFinished(() => environment.dispose());
  return environment;
}

async function askForRun(environment: OwnedProcessEnvironment, webUrl: string, body: string): Promise<void> {
  const repo = testRepo({ cloneUrl: environment.remote.url });
  const response = await postWebhook(webUrl, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body, repo }) });
  // 202 is @octokit/webhooks' "still processing" after 9 s, which GitHub counts as delivered: this file's four
  // scenarios run at once (a web and two workers each, with their agents), and on 2 cores a handler can take that long.
  expect([200, 202]).toContain(response.status);
}

async function finishedRun(environment: OwnedProcessEnvironment): Promise<{ run: PipelineRun; stepJobs: Map<string, Job> }> {
  const { database, github, apps } = environment;
  try {
    const run = await waitUntil(
      async () => {
        const [found] = await database.db.select().from(pipelineRuns);
        // Over, and shown: the comment edited after the pull request (or its absence) was decided.
        return found && found.status !== "running" && [...github.comments.values()].some((comment) => comment.body.includes("pipeline") && !comment.body.includes("🔄 running")) ? found : undefined;
      },
      { what: "the pipeline run to end" },
    );
    const rows = await database.db.select().from(jobs).where(eq(jobs.pipelineRunId, run.id));
    return { run, stepJobs: new Map(rows.map((job) => [job.pipelineStep!, job])) };
  } catch (error) {
    const outputs = apps.map((app) => `--- app ${app.pid}:\n${app.output().slice(-6_000)}`).join("\n");
    throw new Error(`${(error as Error).message}\nGitHub saw:\n${describeRequests(github.requests)}\n${outputs}`, { cause: error });
  }
}

describe.concurrent("pipelines declared in .github/agent.yml, run from a comment", () => {
  it("runs steps in DAG order on two workers: outputs flow into later tasks, parallel steps both land in the run's one pull request", async (context) => {
    const environment = await startPipelineScenario(context, SHIP_PIPELINE.agentYml, SHIP_PIPELINE.script());
    const web = await environment.start("web");
    await environment.start("worker");
    await environment.start("worker");

    await askForRun(environment, web.url!, "/agent run ship file=farewell.js");
    const { run, stepJobs } = await finishedRun(environment);
    const { github, remote, model } = environment;

    expect(run).toMatchObject({ status: "completed", issueNumber: 7, inputs: { file: "farewell.js" } });
    expect(run.steps).toMatchObject({ survey: { state: "completed", output: { name: "farewell" } }, code: { state: "completed" }, docs: { state: "completed" } });
    // The survey's output reached the later tasks, as fenced data.
    expect(stepJobs.get("code")!.task).toMatch(/Add[\s\S]*```text\nfarewell\n```[\s\S]*in[\s\S]*farewell\.js/);
    expect(stepJobs.get("docs")!.task).toContain("farewell");
    // Each step ran once, as its own job, with its own check run.
    expect([...stepJobs.keys()].sort()).toEqual(["code", "docs", "survey"]);
    const checkRunNames = [...github.checkRuns.values()].map((checkRun) => checkRun.fields.name).sort();
    expect(checkRunNames).toEqual(["agent: ship/code", "agent: ship/docs", "agent: ship/survey"]);
    expect([...github.checkRuns.values()].every((checkRun) => checkRun.fields.conclusion === "success")).toBe(true);
    // code and docs ran side by side; both pushed to the run's branch, the later one on top of the earlier.
    expect(remote.git("show", `${run.branch}:farewell.js`)).toContain("Goodbye");
    expect(remote.git("show", `${run.branch}:README.md`)).toContain("farewell(name)");
    expect(remote.git("rev-list", "--count", `main..${run.branch}`)).toBe("2");
    // One pull request for the run, listing each step; one comment with the DAG as a checklist.
    expect(github.pullRequests).toEqual([expect.objectContaining({ head: run.branch, base: "main", draft: false, title: "ship: pipeline run" })]);
    for (const step of ["survey", "code", "docs"]) expect(github.pullRequests[0]!.body).toContain(`\`${step}\``);
    const comments = [...github.comments.values()].filter((comment) => comment.body.includes("running-agent-run:"));
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(/- \[x\] \*\*survey\*\*[\s\S]*- \[x\] \*\*code\*\*[\s\S]*- \[x\] \*\*docs\*\*/);
    expect(comments[0]!.body).toContain(github.pullRequests[0]!.html_url);
    // No per-step progress comment: the run's comment is the one.
    expect([...github.comments.values()].filter((comment) => comment.issueNumber === 7)).toHaveLength(1);
    expect(unexpectedRequests(github.requests)).toEqual([]);
    expect(model.requests.length).toBeGreaterThan(0);
  });

  it("lets the dependents of a failed `continue` step run, and cancels those of a failed `stop` step", async (context) => {
    const agentYml = [
      "pipelines:",
      "  checks:",
      "    steps:",
      "      - name: flaky",
      "        on_failure: continue",
      "        task: Break greet.js on purpose",
      "      - name: after-flaky",
      "        depends_on: [flaky]",
      "        task: Add farewell.js",
      "      - name: strict",
      "        task: Break greet.js differently",
      "      - name: after-strict",
      "        depends_on: [strict]",
      "        task: Add welcome.js",
    ].join("\n");
    // The model refuses both failing steps outright (HTTP 401 is not worth retrying): their jobs fail, having pushed nothing.
    const refused = { explore: [[{ status: 401, body: { error: { message: "invalid api key" } } }]], build: [] };
    const environment = await startPipelineScenario(
      context,
      agentYml,
      stepScripts({
        flaky: refused,
        strict: refused,
        "after-flaky": { build: [[write("farewell.js", "exports.farewell = () => 'bye';\n"), { text: "Added farewell.js." }]] },
        "after-strict": { build: [[write("welcome.js", "exports.welcome = () => 'hi';\n"), { text: "Added welcome.js." }]] },
      }),
    );
    const app = await environment.start("all");

    await askForRun(environment, app.url!, "/agent run checks");
    const { run, stepJobs } = await finishedRun(environment);

    expect(run.status).toBe("failed");
    expect(run.steps).toMatchObject({ flaky: { state: "failed" }, "after-flaky": { state: "completed" }, strict: { state: "failed" }, "after-strict": { state: "cancelled" } });
    expect(stepJobs.has("after-strict")).toBe(false);
    expect(stepJobs.get("flaky")).toMatchObject({ status: "failed", failureKind: "model" });
    // The dependent's work is on the branch; the pull request is a draft, since the run failed.
    expect(environment.github.pullRequests).toEqual([expect.objectContaining({ head: run.branch, draft: true })]);
    expect(environment.remote.git("ls-tree", "--name-only", run.branch)).toContain("farewell.js");
    const comment = [...environment.github.comments.values()].find((candidate) => candidate.body.includes("running-agent-run:"))!;
    expect(comment.body).toMatch(/\*\*after-strict\*\* · ⏹️ cancelled/);
    expect(comment.body).toMatch(/\*\*flaky\*\* · ❌ failed/);
    const job = await findJob(environment.database.db, stepJobs.get("after-flaky")!.id);
    expect(job?.status).toBe("completed");
  });

  it("fails the later of two parallel steps that change the same lines, naming the file; the earlier one's work stays", async (context) => {
    const agentYml = ["pipelines:", "  rivals:", "    steps:", "      - name: polite", "        task: Make greet polite", "      - name: loud", "        task: Make greet loud"].join("\n");
    const environment = await startPipelineScenario(
      context,
      agentYml,
      // Both steps build on the same commit and push at about the same moment, to a branch neither has created yet.
      buildTogether(
        stepScripts({
          polite: { build: [[write("greet.js", "exports.greet = (name) => `Hello, ${name}!`; // polite\n"), { text: "Polite." }]] },
          loud: { build: [[write("greet.js", "exports.greet = (name) => `Hello, ${name}!`; // LOUD\n"), { text: "Loud." }]] },
        }),
        ["polite", "loud"],
      ),
    );
    const app = await environment.start("all");

    await askForRun(environment, app.url!, "/agent run rivals");
    const { run, stepJobs } = await finishedRun(environment);

    expect(run.status).toBe("failed");
    const states = Object.values(run.steps).map((step) => step.state).sort();
    expect(states).toEqual(["completed", "failed"]);
    const loser = [...stepJobs.values()].find((job) => job.status === "failed")!;
    expect(loser).toMatchObject({ failureKind: "push" });
    expect(loser.failureMessage).toMatch(/another step of this pipeline run pushed to .* conflict .* in greet\.js/);
    const winner = [...stepJobs.values()].find((job) => job.status === "completed")!;
    expect(environment.remote.git("show", `${run.branch}:greet.js`)).toContain(winner.pipelineStep === "polite" ? "// polite" : "// LOUD");
  });
  it("moves the run on as a step ends, beside the step's last GitHub writes rather than after them", async (context) => {
    const environment = await startPipelineScenario(context, SHIP_PIPELINE.agentYml, SHIP_PIPELINE.script());
    const { database, github } = environment;
    const web = await environment.start("web");
    const worker = await environment.start("worker");
    await askForRun(environment, web.url!, "/agent run ship file=farewell.js");
    // GitHub holds its answer to one of the survey's progress writes: the survey's final write waits behind it.
    const survey = await waitUntil(async () => (await database.db.select().from(jobs).where(eq(jobs.pipelineStep, "survey")))[0], { what: "the survey's job" });
    await waitUntil(async () => (await findJob(database.db, survey.id))?.status === "running", { what: "the survey to run" });
    const held = github.holdReply("checks.update");
    await held.reached;

    // The survey ends and its next steps start while its check run still waits for GitHub.
    const next = await waitUntil(
      async () => {
        const rows = await database.db.select().from(jobs).where(eq(jobs.pipelineRunId, survey.pipelineRunId!));
        return rows.some((job) => job.pipelineStep === "code") && rows.some((job) => job.pipelineStep === "docs") ? rows : undefined;
      },
      { what: "the steps after the survey to be started" },
    );
    expect(next.find((job) => job.pipelineStep === "survey")?.finishedAt).not.toBeNull();
    // By the worker that ran it, not by the web's minute sweep of steps whose end was never heard of. The worker logs
    // that after starting the next steps, and its output reaches this process a moment later: wait for it, while the
    // write is still held (on the old code the step ended only after the release).
    await waitUntil(() => /"step":"survey".*"msg":"pipeline step ended"/.test(worker.output()), { what: "the worker to log the survey's end" });
    held.release();
    const { run } = await finishedRun(environment);
    expect(run.status).toBe("completed");
  });
});
