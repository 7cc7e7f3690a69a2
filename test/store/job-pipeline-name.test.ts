import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findJob } from "../../src/store/job-queries.ts";
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

/** Migration 0013: the backfill of steps made before the column (0012). */
function backfill(): string {
  return readFileSync(path.resolve(import.meta.dirname, "../../migrations/0013_backfill_job_pipeline_name.sql"), "utf8");
}

describe("a step's pipeline name, once packed in its title", () => {
  it("is filled in from `<pipeline>/<step>` for steps made before the column, and left alone elsewhere", async () => {
    // Rows as the app wrote them before migration 0012: the pipeline only in the title.
    const rows = [
      { issueTitle: "ci-fix/lint", pipelineStep: "lint" },
      { issueTitle: "release/notes/draft", pipelineStep: "draft" },
      { issueTitle: "renamed by hand", pipelineStep: "lint" },
      { issueTitle: "ci-fix/lint", pipelineStep: null },
    ];
    const ids: string[] = [];
    for (const row of rows) {
      const [inserted] = await database.db
        .insert(jobs)
        .values({ ...jobFixture({ ...row, pipelineRunId: row.pipelineStep ? "11111111-1111-4111-8111-111111111111" : null }), id: undefined, pipelineName: null } as never)
        .returning();
      ids.push(inserted!.id);
    }
    await database.pool.query(backfill());
    const names = await Promise.all(ids.map(async (id) => (await findJob(database.db, id))!.pipelineName));
    expect(names).toEqual(["ci-fix", "release/notes", null, null]);
  });
});
