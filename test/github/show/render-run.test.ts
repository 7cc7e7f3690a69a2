import { describe, expect, it } from "vitest";
import { stepViewsOf } from "../../../src/pipelines/step-views.ts";
import { renderRunComment, renderRunPullRequestBody } from "../../../src/github/show/render-run.ts";
import type { PipelineRun } from "../../../src/store/pipeline-runs.sql.ts";
import { jobFixture } from "../../support/job-fixture.ts";

function runFixture(overrides: Partial<PipelineRun> = {}): PipelineRun {
  const at = new Date("2026-11-25T10:00:00Z");
  return {
    id: "22222222-2222-4222-8222-222222222222",
    installationId: 4242,
    repoId: 1,
    repoOwner: "octo-org",
    repoName: "hello-world",
    issueNumber: 7,
    pipelineName: "ship",
    definition: {
      steps: [
        { name: "survey", task: "s", on_failure: "stop" },
        { name: "code", task: "c", depends_on: ["survey"], on_failure: "stop" },
        { name: "docs", task: "d", depends_on: ["survey"], on_failure: "continue" },
        { name: "wrap", task: "w", depends_on: ["code", "docs"], on_failure: "stop" },
      ],
    },
    inputs: {},
    status: "running",
    steps: {},
    requesterLogin: "octocat",
    requesterId: 1,
    cloneUrl: "",
    defaultBranch: "main",
    branch: "agent/ship-22222222",
    commentId: null,
    prUrl: null,
    prNumber: null,
    cancelRequestedAt: null,
    cancelRequestedBy: null,
    shownStatus: null,
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
    ...overrides,
  };
}

const survey = jobFixture({ id: "a0000000-0000-4000-8000-000000000001", status: "completed", testsPassed: true, totalCost: 0.0125, checkpoint: null });
const code = jobFixture({ id: "a0000000-0000-4000-8000-000000000002", status: "running", phase: "build", iterations: 1, totalCost: 0.003 });
const docs = jobFixture({ id: "a0000000-0000-4000-8000-000000000003", status: "failed", failureKind: "model", failureMessage: "The model provider failed (HTTP 401): invalid key\nmore detail", totalCost: 0.001 });

describe("a pipeline run on GitHub", () => {
  const run = runFixture({
    steps: {
      survey: { state: "completed", jobId: survey.id, output: { name: "farewell" } },
      code: { state: "running", jobId: code.id },
      docs: { state: "failed", jobId: docs.id },
    },
  });
  const views = stepViewsOf(run, [survey, code, docs]);

  it("shows the DAG as a checklist: each step's state, what it waits for, its phase and round, why it failed, its cost", () => {
    const comment = renderRunComment(run, views);
    expect(comment).toContain("<!-- running-agent-run:22222222-2222-4222-8222-222222222222 -->");
    expect(comment).toContain("pipeline `ship` 🔄 running");
    expect(comment).toContain("- [x] **survey** · ✅ succeeded · $0.0125");
    expect(comment).toContain("- [ ] **code** · 🔄 running · build, round 2 · $0.0030");
    expect(comment).toContain("- [ ] **docs** · ❌ failed · The model provider failed (HTTP 401): invalid key · $0.0010");
    expect(comment).not.toContain("more detail");
    expect(comment).toContain("- [ ] **wrap** · ⏳ waiting · after `code`, `docs`");
    expect(comment).toContain("cost $0.0165");
    expect(comment).not.toContain("Pull request");
  });

  it("links the pull request once the run is over, or says why there is none", () => {
    expect(renderRunComment({ ...run, status: "failed", prUrl: "https://github.com/o/r/pull/3" }, views)).toContain("**Pull request:** https://github.com/o/r/pull/3");
    expect(renderRunComment({ ...run, status: "completed" }, views)).toContain("no pull request");
  });

  it("lists each step's result and cost in the run's pull request", () => {
    const body = renderRunPullRequestBody({ ...run, status: "failed" }, views);
    expect(body).toContain("From the pipeline run on #7.");
    expect(body).toMatch(/\| `survey` \| ✅ succeeded \| ✅ \| 0 \| \$0\.0125 \|/);
    expect(body).toMatch(/\| `wrap` \| ⏳ waiting \| – \| 0 \| – \|/);
    expect(body).toContain("**$0.0165**");
  });
});
