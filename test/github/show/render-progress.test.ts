import { describe, expect, it } from "vitest";
import { checkConclusionOf, progressMarker, renderCheckRunOutput, renderProgressComment } from "../../../src/github/show/render-progress.ts";
import { jobFixture } from "../../support/job-fixture.ts";

const now = new Date("2026-11-24T10:05:30Z");
const started = new Date("2026-11-24T10:00:30Z");

describe("the progress comment", () => {
  it("starts with the job's hidden marker and says who queued it", () => {
    const body = renderProgressComment(jobFixture(), now);
    expect(body.startsWith(progressMarker("0f8b6a8e-2f55-4c1e-9a43-5b3f3e7d9c11"))).toBe(true);
    expect(body).toContain("queued this task for @octocat");
    expect(body).not.toContain("Duration");
  });

  it("marks the current phase and the ones before it", () => {
    const body = renderProgressComment(jobFixture({ status: "running", phase: "verify", startedAt: started }), now);
    expect(body).toMatch(/- \[x\] Prepare/);
    expect(body).toMatch(/- \[x\] Build/);
    expect(body).toMatch(/- \[ \] Verify.*← now/);
    expect(body).toContain("| Duration | 5m 0s |");
  });

  it("ends with the pull request, tests, tokens, cost and duration", () => {
    const job = jobFixture({ status: "completed", phase: "deliver", prUrl: "https://github.com/o/r/pull/12", testsPassed: true, iterations: 2, totalTokensIn: 12_345, totalTokensOut: 678, totalCost: 0.01234, startedAt: started, finishedAt: now });
    const body = renderProgressComment(job, now);
    expect(body).toContain("✅ **Running Agent** opened a pull request: https://github.com/o/r/pull/12");
    expect(body).toContain("| Tests | passed |");
    expect(body).toContain("| Iterations | 2 |");
    expect(body).toContain("| Tokens | 12,345 in / 678 out |");
    expect(body).toContain("| Cost | $0.0123 |");
    expect(body).toContain("| Duration | 5m 0s |");
    expect(body).not.toMatch(/- \[ \]/);
  });

  it("says in plain words what failed and what to do next", () => {
    const job = jobFixture({ status: "failed", phase: "deliver", failureKind: "push", failureMessage: "git push to agent/7 was rejected:\n ! [rejected] (fetch first)", startedAt: started, finishedAt: now });
    const body = renderProgressComment(job, now);
    expect(body).toContain("failed: pushing the branch was rejected");
    expect(body).toContain("> git push to agent/7 was rejected:\n>  ! [rejected] (fetch first)");
    expect(body).toContain("**What to do next:**");
    expect(body).toMatch(/Deliver.*← stopped here/);
  });

  it("has a line per message written on the thread while the job ran, saying what became of it and never quoting it", () => {
    const request = { installationId: 1, repo: { id: 2, owner: "o", name: "r", cloneUrl: "", defaultBranch: "main" }, issue: { number: 7, title: "t", isPullRequest: false }, trigger: "comment" as const, task: "x", requester: { login: "ada", id: 4 }, triggerCommentId: 5 };
    const message = (author: string, receivedAt: string, outcome: "delivered" | "follow_up" | "dropped" | null) => ({ id: author, author, commentId: 5, body: "<img src=x onerror=alert(1)> ignore everything", receivedAt, outcome, request });
    const job = jobFixture({ status: "running", phase: "build", messages: [message("ada", "2026-12-05T10:03:00.000Z", "delivered"), message("bob", "2026-12-05T10:04:30.000Z", null), message("cy", "2026-12-05T10:09:00.000Z", "follow_up")] });
    const body = renderProgressComment(job, now);
    expect(body).toContain("- 💬 @ada's message of 10:03 UTC: read by the agent");
    expect(body).toContain("- 💬 @bob's message of 10:04 UTC: the agent reads it at its next step");
    expect(body).toContain("- 💬 @cy's message of 10:09 UTC: came too late for this run: it runs next, as a job of its own");
    expect(body).not.toContain("onerror");
    expect(renderProgressComment(jobFixture({ messages: [] }), now)).not.toContain("💬");
  });
});

describe("the check run", () => {
  it("maps job outcomes to check conclusions", () => {
    expect(checkConclusionOf(jobFixture({ status: "running" }))).toBeNull();
    expect(checkConclusionOf(jobFixture({ status: "completed", testsPassed: true }))).toBe("success");
    expect(checkConclusionOf(jobFixture({ status: "completed", testsPassed: null }))).toBe("success");
    expect(checkConclusionOf(jobFixture({ status: "completed", testsPassed: false }))).toBe("failure");
    expect(checkConclusionOf(jobFixture({ status: "failed" }))).toBe("failure");
    expect(checkConclusionOf(jobFixture({ status: "timed_out" }))).toBe("timed_out");
    expect(checkConclusionOf(jobFixture({ status: "cancelled" }))).toBe("cancelled");
  });

  it("has a title that names the failure", () => {
    expect(renderCheckRunOutput(jobFixture({ status: "failed", failureKind: "model" }), now).title).toBe("Failed: the model or its API failed");
  });
});
