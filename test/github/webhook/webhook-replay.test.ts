import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import nock from "nock";
import pino from "pino";
import type { PgBoss } from "pg-boss";
import { createNodeMiddleware } from "probot";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRoleLookup } from "../../../src/github/authorize-sender.ts";
import { registerTriggers } from "../../../src/github/webhook/triggers.ts";
import { AGENT_JOB_QUEUE, startQueue } from "../../../src/queue/boss.ts";
import { jobs, type Job, type NewJob } from "../../../src/store/jobs.sql.ts";
import { pipelineRuns } from "../../../src/store/pipeline-runs.sql.ts";
import { webhookDeliveries } from "../../../src/store/webhook-deliveries.sql.ts";
import { GITHUB_API, nockAnnounce, nockInstallationToken, recordJson } from "../../support/github-api.ts";
import { INSTALLATION_ID, issueCommentPayload, issueLabeledPayload, postWebhook, reviewCommentPayload, reviewSubmittedPayload, testRepo } from "../../support/github-fixtures.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { jobFixture } from "../../support/job-fixture.ts";
import { createTestProbot, WEBHOOK_SECRET } from "../../support/probot.ts";

/**
 * The attacker holds one signed webhook body (a proxy's log, a misdirected delivery) and
 * posts it again under new `X-GitHub-Delivery` ids. The signature is valid, so only what
 * the body is about can stop it: a comment, a label event or a review acts once.
 * Everything goes over HTTP through Probot's own webhook middleware, signature check
 * included; GitHub is nock, and any request it does not expect fails the test.
 */

const repo = testRepo();
const path = `/repos/${repo.owner}/${repo.name}`;
const BASE_SHA = "a".repeat(40);
const HEAD_SHA = "b".repeat(40);
const HEAD_REF = "agent/7-add-greeting";
let database: TestDatabase;
let boss: PgBoss;
let server: Server;
let url: string;
const background = new Set<Promise<unknown>>();
const unmatched: string[] = [];

type EventName = "issue_comment" | "issues" | "pull_request_review_comment" | "pull_request_review";

/** POST the signed body as GitHub would, under `deliveryId`, and wait for what runs after the answer. */
async function post(event: EventName, payload: Record<string, unknown>, deliveryId = randomUUID()): Promise<number> {
  const response = await postWebhook(url, { event, payload, secret: WEBHOOK_SECRET, deliveryId });
  await response.text();
  await Promise.all([...background]);
  return response.status;
}

async function jobRows(): Promise<Job[]> {
  return database.db.select().from(jobs).orderBy(jobs.createdAt);
}

async function queueMessageCount(): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>("select count(*)::int as n from pgboss.job where name = $1", [AGENT_JOB_QUEUE]);
  return rows[0]!.n;
}

async function insertJob(overrides: Partial<NewJob>): Promise<Job> {
  const createdAt = new Date(Date.now() - 60_000);
  const [job] = await database.db
    .insert(jobs)
    .values({ ...jobFixture({ createdAt, updatedAt: createdAt, repoId: repo.id, installationId: INSTALLATION_ID }), id: randomUUID(), deliveryId: null, ...overrides })
    .returning();
  return job!;
}

function nockReplies(issueNumber: number): string[] {
  const bodies: string[] = [];
  nock(GITHUB_API)
    .post(`${path}/issues/${issueNumber}/comments`)
    .reply(
      201,
      recordJson<{ body: string }>((body) => {
        bodies.push(body.body);
        return { id: 7001 };
      }),
    );
  return bodies;
}

/** Announcing a follow-up on pull request 12: its progress comment and a check run on its head. */
function nockFollowUpAnnounce(): void {
  nock(GITHUB_API)
    .post(`${path}/issues/12/comments`)
    .reply(201, { id: 5001 })
    .get(`${path}/git/ref/${encodeURIComponent(`heads/${HEAD_REF}`)}`)
    .reply(200, { ref: `refs/heads/${HEAD_REF}`, object: { sha: HEAD_SHA, type: "commit" } })
    .post(`${path}/check-runs`)
    .reply(201, { id: 6001 });
}

function onUnmatched(request: Request): void {
  unmatched.push(`${request.method} ${request.url}`);
}

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
  // One app for the whole file, as in production: the role cache is its only memory, and it
  // holds nothing that decides whether a delivery was seen.
  const middleware = await createNodeMiddleware((app) => registerTriggers(app, { pool: database.pool, db: database.db, boss, lookUpRole: createRoleLookup(), background }), {
    probot: createTestProbot(),
  });
  server = createServer((request, response) => void middleware(request, response, () => response.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  nock.emitter.on("no match", onUnmatched);
});
afterAll(async () => {
  nock.emitter.removeListener("no match", onUnmatched);
  await new Promise((resolve) => server.close(resolve));
  await boss.stop({ graceful: false });
  await database.drop();
});
beforeEach(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
  unmatched.length = 0;
  nockInstallationToken(10);
  // Asked for every delivery (the requester, and a pull request's author): how often is not the point here.
  nock(GITHUB_API).persist().get(`${path}/collaborators/octocat/permission`).optionally().reply(200, { permission: "write", role_name: "write", user: { login: "octocat" } });
  await database.db.delete(webhookDeliveries);
  await database.db.delete(jobs);
  await database.db.delete(pipelineRuns);
  await database.pool.query("delete from pgboss.job where name = $1", [AGENT_JOB_QUEUE]);
});
afterEach(() => {
  const pending = nock.pendingMocks().filter((mock) => !mock.includes("/access_tokens"));
  nock.cleanAll();
  expect(pending).toEqual([]);
  expect(unmatched.filter((request) => !request.startsWith("POST http://127.0.0.1"))).toEqual([]);
});

describe("a signed body replayed under a new delivery id", () => {
  it("starts one job from an /agent comment, however often it comes", async () => {
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: BASE_SHA });
    const payload = issueCommentPayload({ body: "/agent add a greet() function", commentId: 9001 });

    expect(await post("issue_comment", payload)).toBe(200);
    expect(await post("issue_comment", payload)).toBe(200);
    // …and concurrently: the unique key decides, not who asks first.
    expect(await Promise.all([post("issue_comment", payload), post("issue_comment", payload)])).toEqual([200, 200]);

    const rows = await jobRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ task: "add a greet() function", triggerCommentId: 9001 });
    expect(await queueMessageCount()).toBe(1);
    const deliveries = await database.db.select().from(webhookDeliveries);
    expect(deliveries).toEqual([expect.objectContaining({ outcome: "job_created", jobId: rows[0]!.id, triggerKey: "issue_comment.created:9001" })]);
  });

  it("still starts a job for another comment with the same words", async () => {
    nockAnnounce(repo, { issueNumber: 7, commentId: 9001, baseSha: BASE_SHA });
    nockAnnounce(repo, { issueNumber: 7, commentId: 9002, baseSha: BASE_SHA, progressCommentId: 5002, checkRunId: 6002 });

    await post("issue_comment", issueCommentPayload({ body: "/agent do it", commentId: 9001 }));
    await post("issue_comment", issueCommentPayload({ body: "/agent do it", commentId: 9002 }));

    expect(await jobRows()).toHaveLength(2);
  });

  it("starts one job from a label event, and another when the label is added again later", async () => {
    nockAnnounce(repo, { issueNumber: 7, labelled: true, baseSha: BASE_SHA });
    const labeled = issueLabeledPayload({ label: "agent" });
    (labeled.issue as Record<string, unknown>).updated_at = "2026-11-25T01:00:00Z";

    await post("issues", labeled);
    expect(await post("issues", labeled)).toBe(200);
    expect(await jobRows()).toHaveLength(1);

    // Removed and added again: the issue was updated, so this is a new event.
    nockAnnounce(repo, { issueNumber: 7, labelled: true, baseSha: BASE_SHA, progressCommentId: 5002, checkRunId: 6002 });
    const relabeled = structuredClone(labeled);
    (relabeled.issue as Record<string, unknown>).updated_at = "2026-11-25T02:00:00Z";
    await post("issues", relabeled);

    expect(await jobRows()).toHaveLength(2);
    expect(await queueMessageCount()).toBe(2);
  });

  it("starts one follow-up from a review, and one from a review comment", async () => {
    nockFollowUpAnnounce();
    const review = reviewSubmittedPayload({ body: "/agent address these", reviewId: 8801 });
    await post("pull_request_review", review);
    await post("pull_request_review", review);
    expect(await jobRows()).toHaveLength(1);

    nockFollowUpAnnounce();
    const comment = reviewCommentPayload({ body: "/agent rename this", commentId: 9101, reviewId: null });
    await post("pull_request_review_comment", comment);
    await post("pull_request_review_comment", comment);

    const rows = await jobRows();
    expect(rows.map((job) => job.task)).toEqual(["address these", "rename this"]);
    expect(await queueMessageCount()).toBe(2);
  });

  it("starts one pipeline run from /agent run", async () => {
    const file = 'pipelines:\n  ci-fix:\n    steps:\n      - { name: lint, task: "Lint" }\n';
    // The file is read before the run is claimed, so each delivery reads it.
    nock(GITHUB_API)
      .get(`${path}/contents/.github%2Fagent.yml`)
      .query({ ref: repo.defaultBranch })
      .times(2)
      .reply(200, { type: "file", encoding: "base64", content: Buffer.from(file).toString("base64") });
    nock(GITHUB_API)
      .post(`${path}/issues/comments/9002/reactions`, { content: "eyes" })
      .reply(201, { id: 1 })
      .get(`${path}/git/ref/heads%2Fmain`)
      .reply(200, { object: { sha: BASE_SHA } })
      .post(`${path}/check-runs`)
      .reply(201, { id: 6101 })
      .post(`${path}/issues/7/comments`)
      .reply(201, { id: 5101 });
    const payload = issueCommentPayload({ body: "/agent run ci-fix", commentId: 9002 });

    await post("issue_comment", payload);
    expect(await post("issue_comment", payload)).toBe(200);

    expect(await database.db.select().from(pipelineRuns)).toHaveLength(1);
    expect(await jobRows()).toHaveLength(1);
    expect(await queueMessageCount()).toBe(1);
  });

  it("cancels once: a replay does not stop the jobs and runs started since", async () => {
    const replies = nockReplies(7);
    const cancel = issueCommentPayload({ body: "/agent cancel", commentId: 9003 });
    await post("issue_comment", cancel);
    expect(replies).toEqual([expect.stringMatching(/^Nothing to cancel/)]);

    // Work started after the cancel…
    const queued = await insertJob({ status: "queued", issueNumber: 7 });
    const [run] = await database.db
      .insert(pipelineRuns)
      .values({ installationId: INSTALLATION_ID, repoId: repo.id, repoOwner: repo.owner, repoName: repo.name, issueNumber: 7, pipelineName: "ci-fix", definition: { steps: [] }, requesterLogin: "octocat" })
      .returning();

    // …survives the cancel's body posted again.
    expect(await post("issue_comment", cancel)).toBe(200);

    expect(await database.db.select().from(jobs).where(eq(jobs.id, queued.id))).toEqual([expect.objectContaining({ status: "queued", cancelRequestedAt: null })]);
    expect(await database.db.select().from(pipelineRuns).where(eq(pipelineRuns.id, run!.id))).toEqual([expect.objectContaining({ status: "running", cancelRequestedAt: null })]);
    expect(replies).toHaveLength(1);
  });

  it("retries once: a replay does not queue the job again after the retry failed too", async () => {
    const failed = await insertJob({ status: "failed", failureKind: "tests", issueNumber: 7, commentId: 5001, checkRunId: 6001, finishedAt: new Date() });
    nock(GITHUB_API)
      .post(`${path}/issues/comments/9004/reactions`, { content: "+1" })
      .reply(201, { id: 1 })
      .post(`${path}/check-runs`)
      .reply(201, { id: 6101 })
      .patch(`${path}/check-runs/6101`)
      .reply(200, { id: 6101 })
      .patch(`${path}/issues/comments/5001`)
      .reply(200, { id: 5001 });
    const retry = issueCommentPayload({ body: "/agent retry", commentId: 9004 });
    await post("issue_comment", retry);
    expect(await queueMessageCount()).toBe(1);

    // The retried job fails again; the old `/agent retry` comes back under a new id.
    await database.db.update(jobs).set({ status: "failed", finishedAt: new Date() }).where(eq(jobs.id, failed.id));
    await database.pool.query("delete from pgboss.job where name = $1", [AGENT_JOB_QUEUE]);
    expect(await post("issue_comment", retry)).toBe(200);

    expect(await database.db.select().from(jobs).where(eq(jobs.id, failed.id))).toEqual([expect.objectContaining({ status: "failed", checkRunId: 6101 })]);
    expect(await queueMessageCount()).toBe(0);
  });
});
