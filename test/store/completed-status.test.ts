import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs } from "../../src/store/jobs.sql.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { jobFixture } from "../support/job-fixture.ts";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** Migration 0018: `succeeded` becomes `completed`, the original interface's word. */
function migration(): string[] {
  return readFileSync(path.resolve(import.meta.dirname, "../../migrations/0018_completed_status.sql"), "utf8").split("--> statement-breakpoint");
}

describe("the old status word, in rows written before migration 0018", () => {
  it("becomes `completed` in jobs, runs and their steps, and nothing else changes", async () => {
    const statuses = ["succeeded", "failed", "succeeded", "cancelled"];
    for (const [index, status] of statuses.entries()) {
      await database.db.insert(jobs).values({ ...jobFixture({ status: status as never, shownStatus: index === 0 ? ("succeeded" as never) : null }), id: undefined } as never);
    }
    const steps = { lint: { state: "succeeded", jobId: "a", output: { state: "succeeded" } }, fix: { state: "failed" }, docs: { state: "skipped" } };
    await database.pool.query(
      `insert into pipeline_runs (installation_id, repo_id, repo_owner, repo_name, pipeline_name, definition, status, shown_status, steps, requester_login)
       values (1, 1, 'o', 'r', 'p', '{}', 'succeeded', 'succeeded', $1, 'me'), (1, 1, 'o', 'r', 'q', '{}', 'failed', null, '{}', 'me')`,
      [JSON.stringify(steps)],
    );

    for (const statement of migration()) await database.pool.query(statement);

    const { rows: jobRows } = await database.pool.query<{ status: string; shown_status: string | null }>("select status, shown_status from jobs order by created_at, id");
    expect(jobRows.map((row) => row.status).sort()).toEqual(["cancelled", "completed", "completed", "failed"]);
    expect(jobRows.filter((row) => row.shown_status !== null).map((row) => row.shown_status)).toEqual(["completed"]);
    const { rows: runRows } = await database.pool.query<{ pipeline_name: string; status: string; shown_status: string | null; steps: Record<string, unknown> }>(
      "select pipeline_name, status, shown_status, steps from pipeline_runs order by pipeline_name",
    );
    expect(runRows).toEqual([
      // A step's output is the agent's own JSON: a value that happens to read "succeeded" stays as it was.
      { pipeline_name: "p", status: "completed", shown_status: "completed", steps: { lint: { state: "completed", jobId: "a", output: { state: "succeeded" } }, fix: { state: "failed" }, docs: { state: "skipped" } } },
      { pipeline_name: "q", status: "failed", shown_status: null, steps: {} },
    ]);
  });
});
