/**
 * A local job (`running-agent run`) whose process is gone must not stay `running` in a
 * database for good: the next start against that database ends it (at once when the
 * process was on this machine, else once its heartbeat has lapsed), and so does the
 * minute's sweep of a web process sharing the database. A live engine keeps its job's
 * heartbeat going, and stops when anyone sharing the database cancels the job.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { eq } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.ts";
import { cancelJobs } from "../../src/jobs/thread-control.ts";
import { isGone, recordProcess, thisProcess, type LocalProcess } from "../../src/local/local-process.ts";
import { openLocalEngine } from "../../src/local/run-local.ts";
import { startQueue } from "../../src/queue/boss.ts";
import { LOCAL_JOB_LAPSE_MS, releaseAbandonedJobs, releaseAbandonedLocalJobs } from "../../src/queue/release-abandoned.ts";
import { findJob } from "../../src/store/job-queries.ts";
import { jobs, type Job } from "../../src/store/jobs.sql.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { GREETING_PROJECT } from "../support/git-remote.ts";
import { insertJob } from "../support/job-fixture.ts";
import { createLocalRepository } from "../support/local-repo.ts";
import { agentScript, scriptedModelEnv } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

let database: TestDatabase;

const here = thisProcess();
const elsewhere: LocalProcess = { hostname: `not-${here.hostname}`, machine: null, pid: 4242 };
const silent = pino({ level: "silent" });

/** A job row as `running-agent run` writes it, with its process recorded. */
async function insertLocalJob(owner: LocalProcess | null, overrides: Partial<Job> = {}): Promise<Job> {
  const job = await insertJob(database.db, { trigger: "local", installationId: 0, repoId: 0, repoOwner: "local", issueNumber: 0, checkRunId: null, commentId: null, status: "running", updatedAt: new Date(), ...overrides });
  if (owner) await recordProcess(database.db, job.id, owner);
  return job;
}

/** A pid no process has any more: one that just exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});
beforeEach(async () => {
  await database.db.delete(jobs);
});

describe("at the next start", () => {
  it("ends the local jobs whose process on this machine is gone, and those whose heartbeat lapsed; leaves the others", async () => {
    const killedHere = await insertLocalJob({ ...here, pid: await deadPid() });
    const aliveHere = await insertLocalJob(here);
    const aliveElsewhere = await insertLocalJob(elsewhere);
    const lapsedElsewhere = await insertLocalJob(elsewhere, { status: "queued", updatedAt: minutesAgo(2) });
    const lapsedUnrecorded = await insertLocalJob(null, { updatedAt: minutesAgo(2) });
    const endedHere = await insertLocalJob({ ...here, pid: await deadPid() }, { status: "failed" });
    const onGitHub = await insertJob(database.db, { status: "running", updatedAt: minutesAgo(60) });

    const engine = await openLocalEngine({ config: loadConfig({ DATABASE_URL: database.url }), log: silent });
    await engine.close();

    expect(new Set(engine.released.map((job) => job.id))).toEqual(new Set([killedHere.id, lapsedElsewhere.id, lapsedUnrecorded.id]));
    for (const job of engine.released) {
      expect(job).toMatchObject({ status: "cancelled", failureKind: "cancelled", cancelRequestedAt: expect.any(Date), finishedAt: expect.any(Date) });
      expect(job.failureMessage).toMatch(/^cancelled: the running-agent process running it stopped/);
    }
    for (const job of [aliveHere, aliveElsewhere, onGitHub]) expect(await findJob(database.db, job.id)).toMatchObject({ status: "running" });
    expect(await findJob(database.db, endedHere.id)).toMatchObject({ status: "failed" });
  });

  it("takes a process for gone only when that is certain", () => {
    const isAlive = (pid: number) => pid === 7;
    expect(isGone({ ...here, pid: 8 }, here, isAlive)).toBe(true);
    expect(isGone({ ...here, pid: 7 }, here, isAlive)).toBe(false);
    // Another machine's pid, or another boot's, or another container's, means nothing here.
    expect(isGone({ ...elsewhere, pid: 8 }, here, isAlive)).toBe(false);
    expect(isGone({ ...here, machine: "another boot", pid: 8 }, here, isAlive)).toBe(false);
    // This very process (a pid reused by the new start) is alive, whatever `isAlive` says.
    expect(isGone({ ...here }, here, () => false)).toBe(false);
    for (const recorded of [null, "text", { hostname: here.hostname, machine: here.machine }]) expect(isGone(recorded, here, () => false)).toBe(false);
  });
});

describe("the minute's sweep of a web process sharing the database", () => {
  let boss: PgBoss;
  beforeAll(async () => {
    boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, silent);
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
  });

  it("cancels a local job whose heartbeat lapsed, and hands nothing to show on GitHub", async () => {
    const now = new Date();
    const lapsed = await insertLocalJob(elsewhere, { updatedAt: new Date(now.getTime() - LOCAL_JOB_LAPSE_MS - 1_000) });
    const beating = await insertLocalJob(elsewhere, { updatedAt: new Date(now.getTime() - LOCAL_JOB_LAPSE_MS + 5_000) });

    expect(await releaseAbandonedJobs(database, boss, now)).toEqual([]);

    expect(await findJob(database.db, lapsed.id)).toMatchObject({ status: "cancelled", failureKind: "cancelled", finishedAt: now, cancelRequestedAt: now });
    expect(await findJob(database.db, beating.id)).toMatchObject({ status: "running", finishedAt: null });
  });
});

describe("a live engine", () => {
  let model: ModelServer;
  beforeAll(async () => {
    model = await startModelServer(agentScript({ build: [[{ hang: true }]] }));
  });
  afterAll(async () => {
    await model?.close();
  });

  it("keeps its job's heartbeat going, and stops the job when someone sharing the database cancels it", async () => {
    const repo = await createLocalRepository(GREETING_PROJECT);
    const engine = await openLocalEngine({ config: loadConfig({ ...scriptedModelEnv(model), DATABASE_URL: database.url }), log: silent });
    let reachedBuild: (job: Job) => void = () => {};
    const building = new Promise<Job>((resolve) => (reachedBuild = resolve));
    const progress = { update: (job: Job) => job.phase === "build" && reachedBuild(job), flush: async () => {}, finish: async () => true };
    try {
      const running = engine.run({ repo: repo.dir, task: "Add greet(name) in greet.js" }, { progress });
      const job = await building;
      // As if the last beat were long ago: the next one brings it back, before the sweep would see it lapsed.
      await database.db.update(jobs).set({ updatedAt: minutesAgo(10) }).where(eq(jobs.id, job.id));
      await waitUntil(async () => (await findJob(database.db, job.id))!.updatedAt > minutesAgo(0.5), { what: "the next heartbeat" });
      expect(await releaseAbandonedLocalJobs(database.db)).toEqual([]);
      expect(await findJob(database.db, job.id)).toMatchObject({ status: "running" });

      // What POST /api/jobs/:id/cancel writes.
      await cancelJobs(database.pool, { jobId: job.id }, "an API client", null);

      const result = await running;
      expect(result.job).toMatchObject({ id: job.id, status: "cancelled", failureKind: "cancelled", failureMessage: "cancelled by an API client" });
      expect(result.branch).toBeNull();
      expect(repo.git("branch", "--list", "agent/*")).toBe("");
    } finally {
      await engine.close();
      await repo.cleanup();
    }
  });
});
