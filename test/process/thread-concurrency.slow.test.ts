/**
 * Two worker processes on one database (ROLE=web answers, two ROLE=worker processes with
 * two slots each), and the two limits the queue keeps across them: one job at a time per
 * thread, in order, so a second `/agent` on an issue waits for the first and continues its
 * pull request; and at most AGENT_MAX_JOBS_PER_INSTALLATION jobs of one installation at once.
 *
 * The tests run concurrently (most of a job is opencode starting and paced GitHub writes),
 * so each owns its processes, remote, fake GitHub, model and database.
 */
import { describe, expect, it, type TestContext } from "vitest";
import { readCheckpoint } from "../../src/jobs/checkpoint.ts";
import { findJob } from "../../src/store/job-queries.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { describeRequests, unexpectedRequests } from "../fakes/fake-github.ts";
import type { ModelRequest, Turn } from "../fakes/model-server.ts";
import { GREET_SOURCE } from "../support/git-remote.ts";
import { INSTALLATION_ID, issueCommentPayload, postWebhook, testRepo, type RepoFixture } from "../support/github-fixtures.ts";
import { WEBHOOK_SECRET } from "../support/probot.ts";
import { startProcessEnvironment, type OwnedProcessEnvironment } from "../support/process-environment.ts";
import { EXPLORATION_REPORT, GREET_PLAN } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

// Both tests together take 60–85 s on two cores shared with other test runs (the capped one
// runs three jobs in a row, each mostly opencode starting); the deadlines leave room beyond that.
const FAREWELL_SOURCE = "exports.farewell = (name) => `Goodbye, ${name}!`;\n";
const OTHER_INSTALLATION_ID = 4343;
/** Nothing to install and no checks to run: a job is clone, agent, push and pull request, and little else. */
const BARE_PROJECT = { "README.md": "# hello\n" };

/**
 * Explore and plan answer at once; every build first runs `sleep 1` through the bash tool,
 * so that jobs the queue let run together would be seen running together, then writes one
 * file (farewell.js when the task asks for a farewell, greet.js otherwise) and answers.
 */
function slowBuildScript(request: ModelRequest): Turn {
  if (request.agent === "explore") return { text: EXPLORATION_REPORT };
  if (request.agent === "plan") return { text: "```json\n" + JSON.stringify(GREET_PLAN) + "\n```" };
  const farewell = JSON.stringify(request.body.messages).includes("farewell");
  const write = farewell ? { filePath: "farewell.js", content: FAREWELL_SOURCE } : { filePath: "greet.js", content: GREET_SOURCE };
  const turns: Turn[] = [
    { toolCalls: [{ name: "bash", arguments: { command: "sleep 1", description: "Wait a moment" } }] },
    { toolCalls: [{ name: "write", arguments: write }] },
    { text: `Added ${write.filePath}.` },
  ];
  return turns[request.turnIndex] ?? { text: "Done." };
}

/** The environment, with the web process's URL, and a way to start the workers (when they were held back). */
type Cluster = OwnedProcessEnvironment & { web: string; startWorkers(): Promise<void> };

/**
 * A web process and two workers (two slots each) on one database, torn down when the test
 * finishes. `holdWorkers`: the workers start when the test says, so that requests it makes
 * first are all queued (a comment on a thread whose job already runs is a message to that job).
 */
async function startCluster({ onTestFinished }: TestContext, env: Record<string, string> = {}, options: { holdWorkers?: boolean } = {}): Promise<Cluster> {
  const environment = await startProcessEnvironment(slowBuildScript, { WORKER_CONCURRENCY: "2", ...env }, BARE_PROJECT);
  onTestFinished(() => environment.dispose());
  const startWorkers = async () => {
    await Promise.all([environment.start("worker"), environment.start("worker")]);
  };
  const [web] = await Promise.all([environment.start("web"), options.holdWorkers ? undefined : startWorkers()]);
  return { ...environment, web: web.url!, startWorkers };
}

async function requestAgent(cluster: Cluster, options: { body: string; issueNumber: number; commentId: number; repo?: RepoFixture; installationId?: number }): Promise<void> {
  const repo = options.repo ?? testRepo({ cloneUrl: cluster.remote.url });
  const payload = issueCommentPayload({ body: options.body, repo, issueNumber: options.issueNumber, commentId: options.commentId });
  payload.installation = { ...(payload.installation as object), id: options.installationId ?? INSTALLATION_ID };
  const response = await postWebhook(cluster.web, { event: "issue_comment", secret: WEBHOOK_SECRET, payload });
  expect(response.status).toBe(200);
}

async function allJobs({ database }: Cluster): Promise<Job[]> {
  const { rows } = await database.pool.query<{ id: string }>("select id from jobs order by created_at, id");
  const found = await Promise.all(rows.map((row) => findJob(database.db, row.id)));
  return found.filter((job) => job !== null);
}

/** Wait until `count` jobs exist and all have finished; `sample` runs at every poll. With the processes' output when they never do. */
async function finishedJobs(cluster: Cluster, count: number, sample: () => Promise<void> = async () => {}): Promise<Job[]> {
  try {
    return await waitUntil(async () => {
      await sample();
      const jobs = await allJobs(cluster);
      return jobs.length === count && jobs.every((job) => job.finishedAt !== null) ? jobs : undefined;
    }, { what: `${count} jobs to finish` });
  } catch (error) {
    const jobs = (await allJobs(cluster)).map((job) => `${job.issueNumber}: ${job.status} ${job.phase ?? ""} ${job.failureMessage ?? ""}`).join("\n");
    const outputs = cluster.apps.map((app) => `--- app ${app.pid}:\n${app.output().slice(-6_000)}`).join("\n");
    throw new Error(`${(error as Error).message}\njobs:\n${jobs}\nGitHub saw:\n${describeRequests(cluster.github.requests)}\n${outputs}`, { cause: error });
  }
}

/** Nothing GitHub would refuse, except the 404 a job gets when it looks for an agent branch not pushed yet. */
describe.concurrent("two worker processes on one database", () => {
  it("run a thread's jobs one after the other, the second continuing the first's pull request", async (context) => {
    const cluster = await startCluster(context, {}, { holdWorkers: true });
    const branch = "agent/7-add-a-greeting-function";

    await requestAgent(cluster, { body: "/agent add a greet(name) function in greet.js", issueNumber: 7, commentId: 9001 });
    await requestAgent(cluster, { body: "/agent also add a farewell(name) function in farewell.js", issueNumber: 7, commentId: 9002 });
    await cluster.startWorkers();
    const [first, second] = await finishedJobs(cluster, 2);

    expect(first).toMatchObject({ task: "add a greet(name) function in greet.js", status: "completed", testsPassed: null, branch, baseSha: cluster.remote.headSha, prNumber: 100 });
    // Four free slots across two workers, yet the second job waited for the first to end.
    expect(second!.startedAt!.getTime()).toBeGreaterThanOrEqual(first!.finishedAt!.getTime());
    expect(second).toMatchObject({ task: "also add a farewell(name) function in farewell.js", status: "completed", testsPassed: null, branch, baseBranch: branch, prNumber: 100 });

    // The second built on the first's pushed commit, fast-forward, on the same branch.
    const firstSha = readCheckpoint(first!).pushed!.sha;
    const secondSha = readCheckpoint(second!).pushed!.sha;
    expect(second!.baseSha).toBe(firstSha);
    expect(cluster.remote.git("rev-parse", branch)).toBe(secondSha);
    expect(cluster.remote.git("rev-parse", `${branch}~1`)).toBe(firstSha);
    expect(cluster.remote.git("rev-parse", `${branch}~2`)).toBe(cluster.remote.headSha);
    expect(cluster.remote.git("show", `${branch}:greet.js`)).toBe(GREET_SOURCE.trim());
    expect(cluster.remote.git("show", `${branch}:farewell.js`)).toBe(FAREWELL_SOURCE.trim());

    // One pull request, opened by the first job and updated by the second.
    expect(cluster.github.pullRequests).toEqual([expect.objectContaining({ number: 100, head: branch, state: "open" })]);
    const pullWrites = cluster.github.requests.filter((request) => request.route === "pulls.create" || request.route === "pulls.update").map((request) => `${request.route} ${request.path}`);
    expect(pullWrites).toEqual(["pulls.create /repos/octo-org/hello-world/pulls", "pulls.update /repos/octo-org/hello-world/pulls/100"]);
    expect(unexpectedRequests(cluster.github.requests)).toEqual([]);
  });

  it("never run more of one installation's jobs at once than AGENT_MAX_JOBS_PER_INSTALLATION, while another installation's go on", async (context) => {
    const cluster = await startCluster(context, { AGENT_MAX_JOBS_PER_INSTALLATION: "1" });
    const otherRepo = testRepo({ id: 7_000_001, owner: "other-org", cloneUrl: cluster.remote.url });

    // Running jobs per installation, sampled at every poll (about every 50 ms), from before the first request on.
    const samples: Array<Record<string, number>> = [];
    const sample = async () => {
      const { rows } = await cluster.database.pool.query<{ installation_id: string; running: number }>(
        "select installation_id, count(*)::int as running from jobs where status = 'running' group by installation_id",
      );
      samples.push(Object.fromEntries(rows.map((row) => [row.installation_id, row.running])));
    };
    const finishing = finishedJobs(cluster, 4, sample);
    finishing.catch(() => {}); // Awaited below; a failed request must not leave it unhandled meanwhile.

    for (const issueNumber of [11, 12, 13]) await requestAgent(cluster, { body: "/agent add a greet(name) function in greet.js", issueNumber, commentId: 9000 + issueNumber });
    await requestAgent(cluster, { body: "/agent add a greet(name) function in greet.js", issueNumber: 21, commentId: 9021, repo: otherRepo, installationId: OTHER_INSTALLATION_ID });
    const jobs = await finishing;

    expect(jobs.map((job) => [job.installationId, job.issueNumber, job.status])).toEqual([
      [INSTALLATION_ID, 11, "completed"],
      [INSTALLATION_ID, 12, "completed"],
      [INSTALLATION_ID, 13, "completed"],
      [OTHER_INSTALLATION_ID, 21, "completed"],
    ]);
    // The cap held at every sample, and the three ran one after the other.
    const capped = String(INSTALLATION_ID);
    const other = String(OTHER_INSTALLATION_ID);
    expect(samples.length).toBeGreaterThan(100);
    expect(Math.max(...samples.map((counts) => counts[capped] ?? 0))).toBe(1);
    const byStart = jobs.filter((job) => job.installationId === INSTALLATION_ID).sort((x, y) => x.startedAt!.getTime() - y.startedAt!.getTime());
    for (const [index, job] of byStart.entries()) {
      if (index > 0) expect(job.startedAt!.getTime()).toBeGreaterThanOrEqual(byStart[index - 1]!.finishedAt!.getTime());
    }
    // The cap is per installation: the other installation's job ran alongside one of them.
    expect(samples.some((counts) => counts[capped] === 1 && counts[other] === 1)).toBe(true);

    for (const job of jobs) expect(cluster.remote.git("show", `${job.branch}:greet.js`)).toBe(GREET_SOURCE.trim());
    expect(cluster.github.pullRequests.map((pull) => `${pull.repo} ${pull.head}`).sort()).toEqual(jobs.map((job) => `${job.repoOwner}/${job.repoName} ${job.branch}`).sort());
    expect(unexpectedRequests(cluster.github.requests)).toEqual([]);
  });
});
