/**
 * `/agent <more>` on a thread whose job runs: recorded on that job as a message (not a job
 * of its own), taken once by its worker, and, when the agent can take no more, queued as
 * the job it would have been, or dropped with a cancelled job. Never lost in between.
 */
import pino from "pino";
import type { PgBoss } from "pg-boss";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJob, MAX_MESSAGES_PER_JOB } from "../../src/jobs/create-job.ts";
import { handOnMessages, handOnMessagesOfEnded, hasWaitingMessages, takeMessages } from "../../src/jobs/job-messages.ts";
import type { JobRequest } from "../../src/jobs/job-request.ts";
import { startQueue } from "../../src/queue/boss.ts";
import { updateJob } from "../../src/store/job-queries.ts";
import { jobs, type Job, type JobMessage } from "../../src/store/jobs.sql.ts";
import { webhookDeliveries } from "../../src/store/webhook-deliveries.sql.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let database: TestDatabase;
let boss: PgBoss;
let nextIssue = 100;
let nextDelivery = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
});
afterAll(async () => {
  await boss.stop({ graceful: false });
  await database.drop();
});

function request(issue: number, task: string, overrides: Partial<JobRequest> = {}): JobRequest {
  nextDelivery += 1;
  return {
    delivery: { id: `delivery-${nextDelivery}`, event: "issue_comment", action: "created", triggerKey: `issue_comment.created:${nextDelivery}` },
    installationId: 1,
    repo: { id: 2, owner: "o", name: "r", cloneUrl: "https://github.com/o/r.git", defaultBranch: "main" },
    issue: { number: issue, title: "Greet politely", isPullRequest: false },
    trigger: "comment",
    task,
    requester: { login: "ada", id: 4 },
    triggerCommentId: 1_000 + nextDelivery,
    ...overrides,
  };
}

const aMessage: JobMessage = {
  id: "m",
  author: "ada",
  commentId: 1,
  body: "more",
  receivedAt: "2026-12-05T10:00:00.000Z",
  outcome: "delivered",
  request: { installationId: 1, repo: { id: 2, owner: "o", name: "r", cloneUrl: "", defaultBranch: "main" }, issue: { number: 1, title: "t", isPullRequest: false }, trigger: "comment", task: "more", requester: { login: "ada", id: 4 }, triggerCommentId: 1 },
};

/** A thread of its own with a job on it, moved to `patch` (running, building, by default). */
async function runningJob(patch: Partial<Job> = {}): Promise<Job> {
  const issue = nextIssue++;
  const created = await createJob(database.pool, boss, request(issue, "make greet polite"));
  if (!created.created) throw new Error("expected a job");
  return updateJob(database.db, created.job.id, { status: "running", phase: "build", ...patch });
}

async function jobsOn(issue: number): Promise<Job[]> {
  return database.db.select().from(jobs).where(and(eq(jobs.repoId, 2), eq(jobs.issueNumber, issue)));
}

async function queueMessages(jobId: string): Promise<number> {
  const rows = await database.pool.query("select 1 from pgboss.job where data->>'jobId' = $1", [jobId]);
  return rows.rowCount ?? 0;
}

describe("a comment on a thread whose job is running", () => {
  it("is recorded on the running job as a waiting message, not as a job: no queue message, the delivery points at the job", async () => {
    const job = await runningJob();
    const asked = request(job.issueNumber, "also say goodbye");

    const result = await createJob(database.pool, boss, asked);

    if (result.created || result.reason !== "message") throw new Error(`expected a message, got ${JSON.stringify(result)}`);
    expect(result.job.id).toBe(job.id);
    expect(result.message).toMatchObject({ author: "ada", body: "also say goodbye", commentId: asked.triggerCommentId, outcome: null });
    expect(result.message.request).toMatchObject({ task: "also say goodbye", trigger: "comment", issue: { number: job.issueNumber } });
    expect(result.message.request).not.toHaveProperty("delivery");
    expect(await jobsOn(job.issueNumber)).toHaveLength(1);
    const [delivery] = await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.deliveryId, asked.delivery!.id));
    expect(delivery).toMatchObject({ outcome: "job_message", jobId: job.id });
    expect(await hasWaitingMessages(database.db, job.id)).toBe(true);
  });

  it("is recorded once however often it is delivered, or replayed under another id", async () => {
    const job = await runningJob();
    const asked = request(job.issueNumber, "also say goodbye");
    const replayed = { ...asked, delivery: { ...asked.delivery!, id: "replayed-id" } };

    const results = await Promise.all([createJob(database.pool, boss, asked), createJob(database.pool, boss, asked), createJob(database.pool, boss, replayed)]);

    expect(results.filter((result) => !result.created && result.reason === "message")).toHaveLength(1);
    const [after] = await jobsOn(job.issueNumber);
    expect(after!.messages).toHaveLength(1);
  });

  it.each([
    ["the job is delivering its work", { phase: "deliver" }],
    ["a cancel was asked for", { cancelRequestedAt: new Date(), cancelRequestedBy: "@ada" }],
    ["the job is a pipeline's step", { pipelineRunId: "00000000-0000-4000-8000-000000000001", pipelineName: "ship", pipelineStep: "code" }],
    ["the job has ended", { status: "failed" as const }],
    ["the job is queued (handed back)", { status: "queued" as const }],
    ["the job has taken as many messages as it may", { messages: Array.from({ length: MAX_MESSAGES_PER_JOB }, (_, index) => ({ ...aMessage, id: `m${index}` })) }],
  ])("starts a job of its own when %s", async (_, patch) => {
    const job = await runningJob(patch as Partial<Job>);

    const result = await createJob(database.pool, boss, request(job.issueNumber, "also say goodbye"));

    expect(result.created).toBe(true);
    expect((await jobsOn(job.issueNumber)).find((row) => row.id === job.id)?.messages).toEqual(job.messages);
  });

  it("starts a job of its own behind a job queued after the running one: the thread's order holds", async () => {
    const job = await runningJob();
    const queued = await createJob(database.pool, boss, request(job.issueNumber, "then rename greet", { trigger: "label", triggerCommentId: null }));
    expect(queued.created).toBe(true);

    const result = await createJob(database.pool, boss, request(job.issueNumber, "also say goodbye"));

    expect(result.created).toBe(true);
    expect(await jobsOn(job.issueNumber)).toHaveLength(3);
  });

  it.each(["label", "review", "ci", "api"] as const)("is no message when it comes as a %s trigger", async (trigger) => {
    const job = await runningJob();
    const result = await createJob(database.pool, boss, request(job.issueNumber, "also say goodbye", { trigger }));
    expect(result.created).toBe(true);
  });
});

describe("the running job's worker", () => {
  it("takes each waiting message once, however many take at once", async () => {
    const job = await runningJob();
    await createJob(database.pool, boss, request(job.issueNumber, "also say goodbye"));
    await createJob(database.pool, boss, request(job.issueNumber, "and in French"));

    const takes = await Promise.all(Array.from({ length: 5 }, () => takeMessages(database.pool, database.db, job.id)));

    const taken = takes.flatMap((take) => take?.taken ?? []);
    expect(taken.map((message) => message.body).sort()).toEqual(["also say goodbye", "and in French"]);
    expect(await takeMessages(database.pool, database.db, job.id)).toBeNull();
    const [after] = await jobsOn(job.issueNumber);
    expect(after!.messages.map((message) => message.outcome)).toEqual(["delivered", "delivered"]);
    expect(await hasWaitingMessages(database.db, job.id)).toBe(false);
  });

  it("queues a message its agent can no longer take as the job it would have been, behind this one", async () => {
    const job = await runningJob();
    const asked = request(job.issueNumber, "also say goodbye");
    await createJob(database.pool, boss, asked);

    const after = await handOnMessages(database.pool, boss, job.id, { drop: false });

    const message = after!.messages[0]!;
    expect(message).toMatchObject({ outcome: "follow_up", followUpJobId: expect.any(String) });
    const [followUp] = await database.db.select().from(jobs).where(eq(jobs.id, message.followUpJobId!));
    expect(followUp).toMatchObject({ status: "queued", task: "also say goodbye", trigger: "comment", requesterLogin: "ada", triggerCommentId: asked.triggerCommentId, issueNumber: job.issueNumber, deliveryId: null });
    expect(await queueMessages(followUp!.id)).toBe(1);
    // A second hand-on finds nothing waiting.
    expect(await handOnMessages(database.pool, boss, job.id, { drop: false })).toBeNull();
  });

  it("hands on the waiting messages of a job that ended without its worker (given up, or its worker lost), and drops those of a cancelled one", async () => {
    const given = await runningJob();
    await createJob(database.pool, boss, request(given.issueNumber, "also say goodbye"));
    const ended = await updateJob(database.db, given.id, { status: "failed", failureKind: "internal", finishedAt: new Date() });

    const after = await handOnMessagesOfEnded(database.pool, boss, ended);

    expect(after.messages).toEqual([expect.objectContaining({ outcome: "follow_up" })]);
    expect(await jobsOn(given.issueNumber)).toHaveLength(2);
    const cancelled = await runningJob();
    await createJob(database.pool, boss, request(cancelled.issueNumber, "also say goodbye"));
    const stopped = await updateJob(database.db, cancelled.id, { status: "cancelled", finishedAt: new Date() });
    expect((await handOnMessagesOfEnded(database.pool, boss, stopped)).messages).toEqual([expect.objectContaining({ outcome: "dropped" })]);
    // Nothing waited: the job as it was.
    expect(await handOnMessagesOfEnded(database.pool, boss, stopped)).toBe(stopped);
  });

  it("drops waiting messages with a cancelled job, starting nothing", async () => {
    const job = await runningJob();
    await createJob(database.pool, boss, request(job.issueNumber, "also say goodbye"));

    const after = await handOnMessages(database.pool, boss, job.id, { drop: true });

    expect(after!.messages.map((message) => message.outcome)).toEqual(["dropped"]);
    expect(await jobsOn(job.issueNumber)).toHaveLength(1);
  });

  it("loses no comment written while the job moves on to its delivery: each is a message handed on, or a job of its own", async () => {
    const job = await runningJob();
    const asks = Array.from({ length: 12 }, (_, index) => request(job.issueNumber, `message ${index}`));

    const [results] = await Promise.all([
      Promise.all(asks.map((asked) => createJob(database.pool, boss, asked))),
      (async () => {
        await updateJob(database.db, job.id, { phase: "deliver" });
        await handOnMessages(database.pool, boss, job.id, { drop: false });
      })(),
    ]);

    const [after] = await jobsOn(job.issueNumber).then((rows) => rows.filter((row) => row.id === job.id));
    expect(after!.messages.every((message) => message.outcome === "follow_up")).toBe(true);
    const created = results.filter((result) => result.created).length;
    expect(created + after!.messages.length).toBe(12);
    expect(await jobsOn(job.issueNumber)).toHaveLength(13);
  });
});
