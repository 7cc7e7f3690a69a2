import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import type { JobHost } from "../../src/jobs/job-host.ts";
import { JobRun } from "../../src/jobs/job-run.ts";
import type { RunJobDeps } from "../../src/jobs/run-job.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { jobFixture } from "../support/job-fixture.ts";

/** The database's side of `updateJob`: a row that takes each patch as it arrives, and answers some writes late. */
const row = vi.hoisted(() => ({ current: undefined as unknown as Record<string, unknown>, lateMs: [] as number[] }));
vi.mock("../../src/store/job-queries.ts", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../src/store/job-queries.ts")>()),
  updateJob: async (_db: unknown, _id: string, patch: Record<string, unknown>) => {
    row.current = { ...row.current, ...patch };
    const answer = { ...row.current };
    await new Promise((resolve) => setTimeout(resolve, row.lateMs.shift() ?? 0));
    return answer;
  },
}));

describe("a job run's writes", () => {
  it("land and return in the order they were asked, so the row it keeps is the latest, even when an earlier write is answered late", async () => {
    const job = jobFixture({ status: "running" });
    row.current = { ...job };
    row.lateMs = [50, 0];
    const host = { progress: { update: () => {} } } as unknown as JobHost;
    const run = new JobRun({ settings: { timeoutMs: 60_000 } } as unknown as RunJobDeps, job, host, pino({ level: "silent" }), () => new Date());

    // Two parts of the job write side by side: the workspace's and the task's.
    await Promise.all([run.record({ parkedSandboxId: "sandbox-1" }), run.record({ task: "gathered" })]);

    expect(run.job).toMatchObject({ parkedSandboxId: "sandbox-1", task: "gathered" } satisfies Partial<Job>);
  });
});
