import pino from "pino";
import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJob } from "../../src/jobs/create-job.ts";
import type { JobRequest } from "../../src/jobs/job-request.ts";
import { startQueue } from "../../src/queue/boss.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import { webhookDeliveries } from "../../src/store/webhook-deliveries.sql.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { eq } from "drizzle-orm";

let database: TestDatabase;
let boss: PgBoss;

function request(deliveryId: string, triggerKey: string | null = null): JobRequest {
  return {
    delivery: { id: deliveryId, event: "issue_comment", action: "created", triggerKey },
    installationId: 1,
    repo: { id: 2, owner: "o", name: "r", cloneUrl: "https://github.com/o/r.git", defaultBranch: "main" },
    issue: { number: 3, title: "Do the thing", isPullRequest: false },
    trigger: "comment",
    task: "do the thing",
    requester: { login: "ada", id: 4 },
    triggerCommentId: 5,
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
});
afterAll(async () => {
  await boss.stop({ graceful: false });
  await database.drop();
});

describe("createJob", () => {
  it("writes the delivery, the job and its queue message together", async () => {
    const result = await createJob(database.pool, boss, request("d-1"));
    if (!result.created) throw new Error("expected a job");
    expect(result.job).toMatchObject({ status: "queued", branch: "agent/3-do-the-thing", deliveryId: "d-1" });
    const queued = await database.pool.query("select data from pgboss.job where data->>'jobId' = $1", [result.job.id]);
    expect(queued.rows).toHaveLength(1);
  });

  it("creates one job for twenty concurrent deliveries with the same id", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => createJob(database.pool, boss, request("d-2"))));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(await database.db.select().from(jobs).where(eq(jobs.deliveryId, "d-2"))).toHaveLength(1);
  });

  it("creates one job for twenty concurrent deliveries of the same comment under different ids (a replay)", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => createJob(database.pool, boss, request(`replay-${index}`, "issue_comment.created:5"))));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const recorded = await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.triggerKey, "issue_comment.created:5"));
    expect(recorded).toHaveLength(1);
    expect(await database.db.select().from(jobs).where(eq(jobs.deliveryId, recorded[0]!.deliveryId))).toHaveLength(1);
  });

  it("lets deliveries without a trigger key through, each once", async () => {
    expect((await createJob(database.pool, boss, request("no-key-1"))).created).toBe(true);
    expect((await createJob(database.pool, boss, request("no-key-2"))).created).toBe(true);
  });

  it("leaves nothing behind when enqueueing fails", async () => {
    const broken = { send: async () => Promise.reject(new Error("queue is down")) } as unknown as PgBoss;
    await expect(createJob(database.pool, broken, request("d-3"))).rejects.toThrow("queue is down");
    expect(await database.db.select().from(jobs).where(eq(jobs.deliveryId, "d-3"))).toHaveLength(0);
    expect(await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.deliveryId, "d-3"))).toHaveLength(0);
    // …so GitHub's redelivery (same id) still creates the job.
    expect((await createJob(database.pool, boss, request("d-3"))).created).toBe(true);
  });
});
