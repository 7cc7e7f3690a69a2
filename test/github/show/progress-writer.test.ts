import nock from "nock";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitHubProgressWriter } from "../../../src/github/show/progress-writer.ts";
import { GITHUB_API, recordJson } from "../../support/github-api.ts";
import { jobFixture } from "../../support/job-fixture.ts";
import { TestOctokit } from "../../support/probot.ts";
import { waitUntil } from "../../support/wait-until.ts";

const path = "/repos/octo-org/hello-world";
const octokit = new TestOctokit({ auth: "ghs_test" });
const log = pino({ level: "silent" });

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

/** GitHub answering check-run updates only when the test says so. */
function gatedGitHub() {
  const checkRuns: Array<Record<string, unknown>> = [];
  const comments: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  nock(GITHUB_API)
    .persist()
    .patch(`${path}/check-runs/6001`)
    .reply(
      200,
      recordJson(async (body) => {
        checkRuns.push(body);
        await gate;
        return { id: 6001 };
      }),
    )
    .patch(`${path}/issues/comments/5001`)
    .reply(
      200,
      recordJson<{ body: string }>((body) => {
        comments.push(body.body);
        return { id: 5001 };
      }),
    );
  return { checkRuns, comments, release };
}

describe("the job reporter", () => {
  it("never makes the job wait for GitHub, and sends only the latest of queued states", async () => {
    const github = gatedGitHub();
    const reporter = createGitHubProgressWriter(octokit, log);

    reporter.update(jobFixture({ status: "running", phase: "prepare" }), { force: true });
    await waitUntil(() => github.checkRuns.length === 1, { what: "the first update to be in flight" });
    // GitHub has not answered the first write; these return at once and only the last survives.
    reporter.update(jobFixture({ status: "running", phase: "explore" }), { force: true });
    reporter.update(jobFixture({ status: "running", phase: "plan" }), { force: true });
    reporter.update(jobFixture({ status: "running", phase: "build" }), { force: true });
    github.release();
    await reporter.flush();

    const titles = github.checkRuns.map((body) => (body.output as { title: string }).title);
    expect(titles).toEqual(["Working: prepare", "Working: build"]);
    expect(github.comments).toHaveLength(2);
  });

  it("drops unforced updates within the interval, and finishes after what is in flight", async () => {
    const github = gatedGitHub();
    let now = 0;
    const reporter = createGitHubProgressWriter(octokit, log, { minIntervalMs: 3_000, now: () => new Date(now) });

    reporter.update(jobFixture({ status: "running", phase: "build" }));
    now = 1_000;
    reporter.update(jobFixture({ status: "running", phase: "verify" }));
    const finished = reporter.finish(jobFixture({ status: "completed", phase: "deliver", prUrl: "https://github.com/o/r/pull/1", testsPassed: true }));
    github.release();
    await finished;

    expect(github.checkRuns.map((body) => body.status)).toEqual(["in_progress", "completed"]);
    expect(github.checkRuns.at(-1)).toMatchObject({ conclusion: "success", details_url: "https://github.com/o/r/pull/1" });
    expect(github.comments.at(-1)).toContain("opened a pull request");
  });

  it("writes nothing after the final state: an update while it is in flight, or after it, is dropped", async () => {
    const github = gatedGitHub();
    const reporter = createGitHubProgressWriter(octokit, log);

    const finished = reporter.finish(jobFixture({ status: "completed", phase: "deliver", prUrl: "https://github.com/o/r/pull/1", testsPassed: true }));
    await waitUntil(() => github.checkRuns.length === 1, { what: "the final write to be in flight" });
    // A late update (an announcement finishing beside the job, say) holds an older state.
    reporter.update(jobFixture({ status: "running", phase: "deliver" }), { force: true });
    github.release();
    expect(await finished).toBe(true);
    reporter.update(jobFixture({ status: "running", phase: "deliver" }), { force: true });
    await reporter.flush();

    expect(github.checkRuns.map((body) => body.status)).toEqual(["completed"]);
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]).toContain("opened a pull request");
  });

  it("offers the Retry button on a failed check run, a pipeline step's included", async () => {
    const github = gatedGitHub();
    github.release();
    await createGitHubProgressWriter(octokit, log).finish(jobFixture({ status: "failed", failureKind: "model", failureMessage: "boom" }));
    expect(github.checkRuns.at(-1)).toMatchObject({ conclusion: "failure", actions: [expect.objectContaining({ identifier: "retry" })] });

    await createGitHubProgressWriter(octokit, log).finish(jobFixture({ status: "failed", failureKind: "model", failureMessage: "boom", commentId: null, pipelineRunId: "11111111-1111-4111-8111-111111111111", pipelineName: "ci", pipelineStep: "lint" }));
    expect(github.checkRuns.at(-1)).toMatchObject({ conclusion: "failure", actions: [expect.objectContaining({ identifier: "retry" })] });
  });

  it("does not call a job shown that has neither a check run nor a comment (its announcement failed): the sweep announces and shows it", async () => {
    const shown = await createGitHubProgressWriter(octokit, log).finish(jobFixture({ status: "completed", commentId: null, checkRunId: null }));
    // No GitHub call was made (nock allows none here), and the caller leaves `shown_status` unset.
    expect(shown).toBe(false);
  });
});
