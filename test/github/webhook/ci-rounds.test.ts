/**
 * When a CI failure is the agent's to fix, and when it is not: the cases the end-to-end test
 * (test/e2e/ci-rounds.e2e.test.ts) does not reach, against nock and a real database.
 */
import nock from "nock";
import pino from "pino";
import type { PgBoss } from "pg-boss";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRoleLookup } from "../../../src/github/authorize-sender.ts";
import { registerTriggers } from "../../../src/github/webhook/triggers.ts";
import { startQueue } from "../../../src/queue/boss.ts";
import { jobs } from "../../../src/store/jobs.sql.ts";
import { recordAgentPullRequest } from "../../../src/store/pull-request-queries.ts";
import { agentPullRequests } from "../../../src/store/pull-requests.sql.ts";
import { webhookDeliveries } from "../../../src/store/webhook-deliveries.sql.ts";
import { GITHUB_API, nockInstallationToken, nockRole, recordJson } from "../../support/github-api.ts";
import { checkSuiteCompletedPayload, issueCommentPayload, testRepo } from "../../support/github-fixtures.ts";
import { insertJob } from "../../support/job-fixture.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createTestProbot } from "../../support/probot.ts";

const repo = testRepo();
const path = `/repos/${repo.owner}/${repo.name}`;
const AGENT_SHA = "a".repeat(40);
let database: TestDatabase;
let boss: PgBoss;

async function receive(name: string, payload: Record<string, unknown>) {
  const probot = createTestProbot();
  const background = new Set<Promise<unknown>>();
  await probot.load((app) => registerTriggers(app, { pool: database.pool, db: database.db, boss, lookUpRole: createRoleLookup(), background, appId: 123456 }));
  await probot.receive({ id: crypto.randomUUID(), name, payload } as unknown as Parameters<typeof probot.receive>[0]);
  await Promise.all([...background]);
}

/** The agent's pull request #12, its head the agent's commit. */
async function agentPullRequest() {
  const opener = await insertJob(database.db, { status: "completed", prNumber: 12 });
  await recordAgentPullRequest(database.db, {
    installationId: 4242,
    repoId: repo.id,
    repoOwner: repo.owner,
    repoName: repo.name,
    number: 12,
    url: `https://github.com/${repo.owner}/${repo.name}/pull/12`,
    jobId: opener.id,
    pipelineRunId: null,
    requestedAt: new Date(),
    agentHeadSha: AGENT_SHA,
  });
}

function nockAgentYml(text: string) {
  nock(GITHUB_API).get(`${path}/contents/.github%2Fagent.yml`).query({ ref: repo.defaultBranch }).reply(200, { type: "file", encoding: "base64", content: Buffer.from(text).toString("base64") });
}

function nockComment(issueNumber: number): string[] {
  const bodies: string[] = [];
  nock(GITHUB_API)
    .post(`${path}/issues/${issueNumber}/comments`)
    .reply(201, recordJson<{ body: string }>((body) => (bodies.push(body.body), { id: 1 })));
  return bodies;
}

const ciJobs = async () => (await database.db.select().from(jobs)).filter((job) => job.trigger === "ci");

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
});
afterAll(async () => {
  await boss.stop({ graceful: false });
  await database.drop();
});
beforeEach(async () => {
  nock.disableNetConnect();
  await database.db.delete(webhookDeliveries);
  await database.db.delete(agentPullRequests);
  await database.db.delete(jobs);
  nockInstallationToken(3);
});
afterEach(() => {
  const pending = nock.pendingMocks().filter((mock) => !mock.includes("access_tokens"));
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe("a failing check suite on the agent's commit", () => {
  it("answers a malformed ci: block in plain words, with its lines, and starts nothing", async () => {
    await agentPullRequest();
    nockAgentYml("ci:\n  autofix: sometimes\n  max_rounds: 0\n");
    const replies = nockComment(12);

    await receive("check_suite", checkSuiteCompletedPayload({ headSha: AGENT_SHA, conclusion: "failure" }));

    expect(await ciJobs()).toEqual([]);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain("CI failed on aaaaaaa, but `.github/agent.yml` cannot be read, so Running Agent will not fix it by itself");
    expect(replies[0]).toMatch(/- line 2: ci\.autofix: /);
    expect(replies[0]).toMatch(/- line 3: ci\.max_rounds: must be at least 1/);
  });

  it("does nothing with ci: { autofix: false }, but counts the failure against the agent's commit", async () => {
    await agentPullRequest();
    nockAgentYml("ci:\n  autofix: false\n");

    await receive("check_suite", checkSuiteCompletedPayload({ headSha: AGENT_SHA, conclusion: "failure" }));

    expect(await ciJobs()).toEqual([]);
    const [row] = await database.db.select().from(agentPullRequests);
    expect(row?.lastCiFailureSha).toBe(AGENT_SHA);
  });

  it("starts a round by default (no .github/agent.yml): round 1 of 2, for the pull request's requester", async () => {
    await agentPullRequest();
    nock(GITHUB_API).get(`${path}/contents/.github%2Fagent.yml`).query({ ref: repo.defaultBranch }).reply(404, { message: "Not Found" });
    // Announcing the round on the pull request: its progress comment and check run.
    nock(GITHUB_API).post(`${path}/issues/12/comments`).reply(201, { id: 5001 }).get(`${path}/git/ref/heads%2Fagent%2F7-add-a-greeting-function`).reply(200, { object: { sha: AGENT_SHA } }).post(`${path}/check-runs`).reply(201, { id: 6001 });

    await receive("check_suite", checkSuiteCompletedPayload({ headSha: AGENT_SHA, conclusion: "timed_out" }));

    const [round] = await ciJobs();
    expect(round).toMatchObject({ issueNumber: 12, isPullRequest: true, branch: "agent/7-add-a-greeting-function", requesterLogin: "octocat", followUp: { ci: { headSha: AGENT_SHA, round: 1, maxRounds: 2 } } });
  });

  it("is left alone after /agent cancel on the pull request", async () => {
    await agentPullRequest();
    nockRole(repo, "octocat", "write");
    nock(GITHUB_API).post(`${path}/issues/comments/9001/reactions`, { content: "+1" }).reply(201, { id: 1 });
    const replies = nockComment(12);

    await receive("issue_comment", issueCommentPayload({ body: "/agent cancel", issueNumber: 12, onPullRequest: true }));
    await receive("check_suite", checkSuiteCompletedPayload({ headSha: AGENT_SHA, conclusion: "failure" }));

    expect(replies).toEqual(["Nothing was running; Running Agent will no longer fix this pull request's CI by itself. Comment `/agent <feedback>` to ask for more."]);
    expect(await ciJobs()).toEqual([]);
  });
});
