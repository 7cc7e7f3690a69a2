import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxesHeld } from "../../src/jobs/parked-sandbox.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { insertJob as insertJobInto } from "../support/job-fixture.ts";

let database: TestDatabase;
const now = new Date("2026-11-25T12:00:00Z");
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);

async function insertJob(overrides: Partial<Job>): Promise<void> {
  await insertJobInto(database.db, overrides);
}

beforeAll(async () => {
  database = await createTestDatabase();
  await insertJob({ status: "running", parkedSandboxId: "in-use" });
  await insertJob({ status: "completed", parkedSandboxId: "offered", finishedAt: hoursAgo(2) });
  await insertJob({ status: "completed", parkedSandboxId: "stale", finishedAt: hoursAgo(48) });
});
afterAll(() => database.drop());

describe("which sandboxes a job holds", () => {
  it("the one a running job works in, and the ones offered for a follow-up within the keep time", async () => {
    expect(await sandboxesHeld(database.db, ["in-use", "offered", "stale", "unknown"], 24, now)).toEqual(new Set(["in-use", "offered"]));
  });

  it("only those in use when nothing is kept for follow-ups", async () => {
    expect(await sandboxesHeld(database.db, ["in-use", "offered", "stale"], 0, now)).toEqual(new Set(["in-use"]));
    expect(await sandboxesHeld(database.db, [], 24, now)).toEqual(new Set());
  });
});
