/**
 * The summary speaks the CLI's language: whatever ended the job, what to do next is said
 * in the terms of a command on this machine, never in GitHub's (`/agent retry`, comments,
 * pull requests, an operator), which the job's own errors carry.
 */
import { describe, expect, it } from "vitest";
import { renderSummary } from "../../src/cli/summary.ts";
import type { FailureKind } from "../../src/job-error.ts";
import { jobFixture } from "../support/job-fixture.ts";

const KINDS: FailureKind[] = ["sandbox", "clone", "setup", "model", "agent", "no_changes", "tests", "timeout", "budget", "push", "github", "config", "cancelled", "internal"];
const startedAt = new Date("2026-11-24T10:00:00Z");
const finishedAt = new Date("2026-11-24T10:00:42Z");

describe("what the summary tells to do next", () => {
  it.each(KINDS.flatMap((kind) => (["failed", "timed_out", "cancelled"] as const).map((status) => [status, kind] as const)))("%s (%s): a next step in the CLI's words", (status, kind) => {
    const text = renderSummary(jobFixture({ status, failureKind: kind, failureMessage: "what went wrong", startedAt, finishedAt }), { branch: null, files: [] });

    expect(text).toMatch(/^Next step: \S.*\.$/m);
    // `/agent` as a command, not as in `.github/agent.yml`.
    expect(text).not.toMatch(/(?<!\w)\/agent\b|comment|pull request|operator/i);
  });

  it("says who cancelled the job and how to start again", () => {
    const job = jobFixture({ status: "cancelled", failureKind: "cancelled", failureMessage: "cancelled by an API client", startedAt, finishedAt });

    const text = renderSummary(job, { branch: null, files: [] });

    expect(text).toContain("Result:     cancelled\n");
    expect(text).toContain("\nReason:\n  cancelled by an API client\nNext step: run the same command again to start over.\n");
  });

  it("names the log file when there is one to read", () => {
    const job = jobFixture({ status: "failed", failureKind: "model", failureMessage: "HTTP 401", startedAt, finishedAt });

    expect(renderSummary(job, { branch: null, files: [], logFile: "/tmp/running-agent-20261124-100000-a1b2c3.log" })).toContain("Duration:   42s\nLog:        /tmp/running-agent-20261124-100000-a1b2c3.log\n");
    expect(renderSummary(job, { branch: null, files: [] })).not.toContain("Log:");
  });
});
