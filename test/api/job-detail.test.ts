import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { phasesOf } from "../../src/api/job-json.ts";
import type { JobEvent } from "../../src/store/job-events.sql.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob, jobFixture } from "../support/job-fixture.ts";

const at = (second: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, second));
let nextId = 1;
const event = (second: number, kind: string, message: string, data: Record<string, unknown> | null = null): JobEvent => ({ id: nextId++, jobId: "j", at: at(second), kind, message, data });

describe("a job's phases on a time axis", () => {
  it("opens a span at each phase, numbers the build and verify rounds, and closes at a hand-back and at the end", () => {
    const job = jobFixture({
      finishedAt: at(60),
      usageByPhase: { explore: { cost: 0.01, tokensIn: 100, tokensOut: 10 }, build: { cost: 0.05, tokensIn: 500, tokensOut: 50 } },
    });
    const events = [
      event(0, "phase", "phase prepare started", { phase: "prepare" }),
      event(2, "phase", "phase explore started"), // written before the data carried the phase
      event(5, "tool", "read: README.md"),
      event(9, "phase", "phase build started", { phase: "build" }),
      event(20, "phase", "phase verify started", { phase: "verify" }),
      event(25, "requeued", "the worker stopped"),
      event(30, "phase", "phase build started", { phase: "build" }),
      event(40, "phase", "phase verify started", { phase: "verify" }),
      event(50, "phase", "phase deliver started", { phase: "deliver" }),
    ];
    const phases = phasesOf(job, events);
    expect(phases.map((phase) => [phase.name, phase.round, phase.duration_ms])).toEqual([
      ["prepare", null, 2_000],
      ["explore", null, 7_000],
      ["build", 1, 11_000],
      ["verify", 1, 5_000],
      ["build", 2, 10_000],
      ["verify", 2, 10_000],
      ["deliver", null, 10_000],
    ]);
    // A phase that ran once carries its usage; build's usage is the sum of its rounds (in usage_by_phase), not any one round's.
    expect(phases[1]).toMatchObject({ tokens_in: 100, tokens_out: 10, cost: 0.01 });
    expect(phases[2]).toMatchObject({ tokens_in: null, cost: null });
    expect(phases[0]).toMatchObject({ started_at: at(0).toISOString(), ended_at: at(2).toISOString() });
  });

  it("leaves the phase of a running job open", () => {
    const phases = phasesOf(jobFixture({ finishedAt: null, status: "running" }), [event(0, "phase", "phase prepare started", { phase: "prepare" })]);
    expect(phases).toEqual([{ name: "prepare", round: null, started_at: at(0).toISOString(), ended_at: null, duration_ms: null, tokens_in: null, tokens_out: null, cost: null }]);
  });
});

describe("GET /api/stats/daily", () => {
  let database: TestDatabase;
  let api: ApiServer;
  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startApiServer(database);
  });
  afterAll(async () => {
    await api.close();
    await database.drop();
  });

  it("gives every one of the last days, empty ones too, with the jobs that ended by outcome, their cost and durations", async () => {
    const today = new Date();
    const day = (daysAgo: number, seconds: number) => {
      const finishedAt = new Date(today.getTime() - daysAgo * 86_400_000);
      return { finishedAt, startedAt: new Date(finishedAt.getTime() - seconds * 1_000) };
    };
    await insertJob(database.db, { status: "completed", testsPassed: true, totalCost: 0.5, ...day(0, 60) });
    await insertJob(database.db, { status: "completed", testsPassed: false, totalCost: 0.25, ...day(0, 120) });
    await insertJob(database.db, { status: "failed", totalCost: 0.1, ...day(1, 30) });
    await insertJob(database.db, { status: "timed_out", ...day(40, 30) });
    await insertJob(database.db, { status: "running", finishedAt: null });

    const body = (await (await api.call("GET", "/api/stats/daily?days=3")).json()) as { days: Array<Record<string, unknown>> };
    expect(body.days).toHaveLength(3);
    expect(body.days.map((entry) => entry.date)).toEqual([2, 1, 0].map((daysAgo) => new Date(today.getTime() - daysAgo * 86_400_000).toISOString().slice(0, 10)));
    expect(body.days[2]).toMatchObject({ completed: 2, completed_failing_checks: 1, failed: 0, cost: 0.75, duration_p50_s: 90, merge_rate: null });
    expect(body.days[1]).toMatchObject({ completed: 0, failed: 1, cost: 0.1, duration_p50_s: 30 });
    expect(body.days[0]).toMatchObject({ completed: 0, failed: 0, cancelled: 0, timed_out: 0, cost: 0, duration_p50_s: null });
    for (const bad of ["0", "366", "x", "1.5"]) expect((await api.call("GET", `/api/stats/daily?days=${bad}`)).status, bad).toBe(400);
  });
});
