import type { Db } from "../../src/store/database.ts";
import { jobs, type Job } from "../../src/store/jobs.sql.ts";

/** A job row as the database would return it, for pure tests. */
export function jobFixture(overrides: Partial<Job> = {}): Job {
  const createdAt = new Date("2026-11-24T10:00:00Z");
  return {
    id: "0f8b6a8e-2f55-4c1e-9a43-5b3f3e7d9c11",
    installationId: 4242,
    repoId: 1296269,
    repoOwner: "octo-org",
    repoName: "hello-world",
    cloneUrl: "https://github.com/octo-org/hello-world.git",
    defaultBranch: "main",
    issueNumber: 7,
    issueTitle: "Add a greeting function",
    isPullRequest: false,
    trigger: "comment",
    task: "add greet()",
    requesterLogin: "octocat",
    requesterId: 583231,
    deliveryId: "d-1",
    triggerCommentId: 9001,
    status: "queued",
    phase: null,
    failureKind: null,
    failureMessage: null,
    branch: "agent/7-add-a-greeting-function",
    baseSha: "a".repeat(40),
    baseBranch: null,
    checkRunId: 6001,
    commentId: 5001,
    announceStartedAt: null,
    prUrl: null,
    prNumber: null,
    totalCost: 0,
    totalTokensIn: 0,
    totalTokensOut: 0,
    iterations: 0,
    testsPassed: null,
    debugMode: false,
    resumedFromCheckpoint: false,
    explorationReportGenerated: false,
    timings: {},
    usageByPhase: {},
    checkpoint: null,
    attempts: 0,
    cancelRequestedAt: null,
    cancelRequestedBy: null,
    costBaseline: 0,
    parkedSandboxId: null,
    followUp: null,
    messages: [],
    pipelineRunId: null,
    pipelineName: null,
    pipelineStep: null,
    shownStatus: null,
    createdAt,
    startedAt: null,
    finishedAt: null,
    updatedAt: createdAt,
    ...overrides,
  };
}

/** A job row in the database, from the fixture with `overrides`, with an id of the database's. */
export async function insertJob(db: Db, overrides: Partial<Job> = {}): Promise<Job> {
  const { id: _id, ...row } = jobFixture(overrides);
  const [job] = await db.insert(jobs).values(row).returning();
  return job!;
}
