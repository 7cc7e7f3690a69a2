import pino from "pino";
import { describe, expect, it } from "vitest";
import { prepareCiTask } from "../../../src/github/host/ci-failure-task.ts";
import { JobRun } from "../../../src/jobs/job-run.ts";
import type { RunJobDeps } from "../../../src/jobs/run-job.ts";
import type { JobHost } from "../../../src/jobs/job-host.ts";
import type { ProbotOctokit } from "probot";
import { jobFixture } from "../../support/job-fixture.ts";

const FAILED_SHA = "a".repeat(40);
const HUMAN_SHA = "b".repeat(40);

describe("a CI round, when its worker starts it", () => {
  it("does nothing, saying why, when someone pushed to the branch after the failure: the new commit's CI decides", async () => {
    const job = jobFixture({
      status: "running",
      trigger: "ci",
      branch: "agent/7-greet",
      baseSha: HUMAN_SHA,
      baseBranch: "agent/7-greet",
      followUp: { pullRequest: { number: 12, title: "Add greet", headRef: "agent/7-greet", url: "https://github.com/o/r/pull/12", body: null }, triggeredAt: "2026-12-05T10:00:00Z", reviewTargets: [], ci: { headSha: FAILED_SHA, round: 1, maxRounds: 2 } },
    });
    const deps = { settings: { timeoutMs: 60_000 } } as unknown as RunJobDeps;
    const run = new JobRun(deps, job, {} as JobHost, pino({ level: "silent" }), () => new Date());
    // Nothing is asked of GitHub: the octokit would throw on any call.
    const octokit = new Proxy({}, { get: () => { throw new Error("no GitHub call expected"); } }) as unknown as ProbotOctokit;

    await expect(prepareCiTask(run, octokit, 1)).rejects.toMatchObject({ kind: "no_changes", message: "`agent/7-greet` moved on from aaaaaaa to bbbbbbb since CI failed there: CI on the new commit decides whether there is anything to fix" });
  });
});
