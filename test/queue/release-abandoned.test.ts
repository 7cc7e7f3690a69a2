import type { PgBoss } from "pg-boss";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_JOB_QUEUE, startQueue, threadKeyOf, type AgentJobMessage } from "../../src/queue/boss.ts";
import { releaseAbandonedJobs } from "../../src/queue/release-abandoned.ts";
import { findJob } from "../../src/store/job-queries.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob as insertJobInto } from "../support/job-fixture.ts";

let database: TestDatabase;
let boss: PgBoss;

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
});
afterAll(async () => {
  await boss.stop({ graceful: false });
  await database.drop();
});

const insertJob = (overrides: Partial<Job>) => insertJobInto(database.db, overrides);

async function send(job: Job, options: { retryLimit?: number } = {}): Promise<void> {
  await boss.send(AGENT_JOB_QUEUE, { jobId: job.id }, { singletonKey: threadKeyOf(job), group: { id: String(job.installationId) }, ...options });
}

describe("releasing jobs pg-boss gave up on", () => {
  it("ends the job, and unblocks the jobs queued behind it on the same thread", async () => {
    const abandoned = await insertJob({ status: "running", issueNumber: 7 });
    const behind = await insertJob({ status: "queued", issueNumber: 7 });
    await send(abandoned, { retryLimit: 0 });
    const [taken] = await boss.fetch<AgentJobMessage>(AGENT_JOB_QUEUE);
    expect(taken?.data.jobId).toBe(abandoned.id);
    await send(behind);
    // What pg-boss does when the worker's heartbeat lapses on the last attempt.
    await boss.fail(AGENT_JOB_QUEUE, taken!.id, { message: "heartbeat lapsed" });
    expect(await boss.fetch(AGENT_JOB_QUEUE)).toEqual([]);

    const ended = await releaseAbandonedJobs(database, boss);

    expect(ended.map((job) => job.id)).toEqual([abandoned.id]);
    expect(await findJob(database.db, abandoned.id)).toMatchObject({ status: "failed", failureKind: "internal" });
    const [next] = await boss.fetch<AgentJobMessage>(AGENT_JOB_QUEUE);
    expect(next?.data.jobId).toBe(behind.id);
    expect(await findJob(database.db, behind.id)).toMatchObject({ status: "queued" });
  });

  it("leaves a job that already ended as it was, and finds nothing when nothing failed", async () => {
    const done = await insertJob({ status: "completed", issueNumber: 8 });
    await send(done, { retryLimit: 0 });
    const [taken] = await boss.fetch<AgentJobMessage>(AGENT_JOB_QUEUE);
    await boss.fail(AGENT_JOB_QUEUE, taken!.id);

    expect(await releaseAbandonedJobs(database, boss)).toEqual([]);
    expect(await findJob(database.db, done.id)).toMatchObject({ status: "completed" });
    expect(await releaseAbandonedJobs(database, boss)).toEqual([]);
  });
});
