/**
 * The app as `npm start` runs it (`node src/main.ts`), against a fake GitHub over HTTP
 * (GHE_HOST, GHE_PROTOCOL=http): a signed `/agent` webhook ends in a pull request, in one
 * process (ROLE=all) and in two (ROLE=web answers, ROLE=worker delivers).
 *
 * The two tests run concurrently (each job spends most of its time waiting on the model
 * and on paced GitHub writes), so each owns its remote, fake GitHub, model and database.
 */
import { describe, expect, it, type TestContext } from "vitest";
import { findJob } from "../../src/store/job-queries.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { describeRequests, startFakeGitHub, unexpectedRequests, type FakeGitHub } from "../fakes/fake-github.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { startAppProcess, type AppProcess, type Role } from "../support/app-process.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createGitRemote, GREET_SOURCE, GREETING_PROJECT, type GitRemote } from "../support/git-remote.ts";
import { issueCommentPayload, postWebhook, testRepo } from "../support/github-fixtures.ts";
import { APP_ID, WEBHOOK_SECRET } from "../support/probot.ts";
import { agentScript, scriptedModelEnv } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const BRANCH = "agent/7-add-a-greeting-function";

interface Scenario {
  remote: GitRemote;
  github: FakeGitHub;
  model: ModelServer;
  database: TestDatabase;
  apps: AppProcess[];
}

/**
 * Everything one test talks to, torn down when the test finishes, whatever its outcome.
 * The context's onTestFinished, not the global one: with concurrent tests the global one
 * may attach to the other test and tear this one down under it.
 */
async function startScenario({ onTestFinished }: TestContext): Promise<Scenario> {
  const remote = await createGitRemote(GREETING_PROJECT);
  const github = await startFakeGitHub({ appId: APP_ID, branches: { main: remote.headSha } });
  // Explore and plan answer with agentScript's report and plan; the build agent writes greet.js.
  const model = await startModelServer(agentScript({ build: [[{ toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content: GREET_SOURCE } }] }, { text: "Added greet() in greet.js." }]] }));
  const database = await createTestDatabase();
  const scenario: Scenario = { remote, github, model, database, apps: [] };
  onTestFinished(async () => {
    await Promise.all(scenario.apps.map((app) => app.dispose()));
    await model.close();
    await github.close();
    await database.drop();
    await remote.cleanup();
  });
  return scenario;
}

async function start(scenario: Scenario, role: Role): Promise<AppProcess> {
  const app = await startAppProcess({ role, env: { GHE_HOST: scenario.github.host, DATABASE_URL: scenario.database.url, ...scriptedModelEnv(scenario.model) } });
  scenario.apps.push(app);
  return app;
}

function deliverAgentComment(scenario: Scenario, app: AppProcess): Promise<Response> {
  const repo = testRepo({ cloneUrl: scenario.remote.url });
  return postWebhook(app.url!, { event: "issue_comment", secret: WEBHOOK_SECRET, payload: issueCommentPayload({ body: "/agent add a greet(name) function in greet.js", repo }) });
}

async function onlyJob({ database }: Scenario): Promise<Job | undefined> {
  const { rows } = await database.pool.query<{ id: string }>("select id from jobs");
  if (rows.length > 1) throw new Error(`expected one job, found ${rows.length}`);
  return rows[0] ? ((await findJob(database.db, rows[0].id)) ?? undefined) : undefined;
}

/** Wait for the finished job, with what GitHub saw and the processes' output in the message if it never finishes. */
async function finishedJob(scenario: Scenario): Promise<Job> {
  try {
    return await waitUntil(async () => {
      const job = await onlyJob(scenario);
      return job?.finishedAt ? job : undefined;
    }, { what: "the job to finish" });
  } catch (error) {
    const outputs = scenario.apps.map((app) => `--- app ${app.pid}:\n${app.output().slice(-8_000)}`).join("\n");
    throw new Error(`${(error as Error).message}\nGitHub saw:\n${describeRequests(scenario.github.requests)}\n${outputs}`, { cause: error });
  }
}

/** What a user sees on GitHub after a successful job, and nothing GitHub would refuse. */
async function expectPullRequestOnGitHub({ github, remote, model, apps }: Scenario, job: Job): Promise<void> {
  expect(job).toMatchObject({ status: "completed", testsPassed: true, failureKind: null, prNumber: 100 });
  expect(job.prUrl).toBe(`http://${github.host}/octo-org/hello-world/pull/100`);
  expect(github.pullRequests).toEqual([expect.objectContaining({ head: BRANCH, base: "main", title: "Add a greeting function", draft: false })]);
  expect(github.pullRequests[0]!.body).toContain("Closes #7");

  // The final report: the check run completed, the progress comment links the pull request.
  const completed = await github.waitFor((request) => request.route === "checks.update" && (request.body as { status?: string }).status === "completed");
  expect(completed.body).toMatchObject({ conclusion: "success" });
  await waitUntil(() => [...github.comments.values()].some((comment) => comment.body.includes(job.prUrl!)), { what: "the progress comment to link the pull request" });

  // Authenticated as the app, then as the installation; a token scoped to the repository for git.
  const routes = github.requests.map((request) => request.route);
  expect(routes).toEqual(expect.arrayContaining(["reactions.createForIssueComment", "issues.createComment", "git.getRef", "checks.create", "pulls.list", "pulls.create"]));
  expect(unexpectedRequests(github.requests)).toEqual([]);
  expect(github.requests.filter((request) => request.route === "apps.createInstallationAccessToken").every((request) => request.auth === "jwt")).toBe(true);
  expect(github.requests.map((request) => request.body)).toContainEqual({ repository_ids: [testRepo().id], permissions: { contents: "write" } });
  expect(github.requests.find((request) => request.route === "checks.create")?.body).toMatchObject({ name: "Running Agent", head_sha: remote.headSha, status: "queued" });

  // The branch is in the remote, one commit on the base; no token reached the agent or the logs.
  expect(remote.git("show", `${BRANCH}:greet.js`)).toBe(GREET_SOURCE.trim());
  expect(remote.git("rev-parse", `${BRANCH}~1`)).toBe(remote.headSha);
  for (const request of model.requests) expect(JSON.stringify(request)).not.toMatch(/ghs_\w+/);
  for (const token of github.tokens) for (const app of apps) expect(app.output()).not.toContain(token);
}

describe.concurrent("a signed /agent webhook becomes a pull request", () => {
  it("in one process, as `npm start` runs it (ROLE=all)", async (context) => {
    const scenario = await startScenario(context);
    const app = await start(scenario, "all");

    const response = await deliverAgentComment(scenario, app);
    expect(response.status).toBe(200);

    await expectPullRequestOnGitHub(scenario, await finishedJob(scenario));
  });

  it("in separate processes on one database: ROLE=web queues the job, ROLE=worker delivers it", async (context) => {
    const scenario = await startScenario(context);
    const web = await start(scenario, "web");
    const response = await deliverAgentComment(scenario, web);
    expect(response.status).toBe(200);

    // The web process alone: the job is announced and waits in the queue; no agent runs.
    const queued = await waitUntil(async () => {
      const job = await onlyJob(scenario);
      return job?.checkRunId ? job : undefined;
    }, { what: "the web process to queue and announce the job" });
    expect(queued).toMatchObject({ status: "queued", attempts: 0 });
    expect(scenario.model.requests).toEqual([]);

    await start(scenario, "worker");
    await expectPullRequestOnGitHub(scenario, await finishedJob(scenario));
  });
});
