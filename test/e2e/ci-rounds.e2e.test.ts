/**
 * The repository's CI is part of the job: a check suite failing on the agent's commit starts
 * a follow-up by itself, whose prompt carries the failing job's log; its push is the new
 * head. Over HTTP against the fake GitHub, with the real opencode binary and the scripted
 * model. The loop stops at `ci.max_rounds`, at a person's push, and ignores what is not the
 * agent's to fix.
 */
import { describe, expect, it } from "vitest";
import { readCheckpoint } from "../../src/jobs/checkpoint.ts";
import { jobs } from "../../src/store/jobs.sql.ts";
import { ACTIONS_APP, type FakeGitHub, type FakeForeignCheckRun } from "../fakes/fake-github.ts";
import { startModelServer, type ModelRequest, type Turn } from "../fakes/model-server.ts";
import { useEndToEnd } from "../support/end-to-end.ts";
import { deliver, startAppOnFakeGitHub, startFakeGitHubFor } from "../support/fake-github-app.ts";
import { createGitRemote, GREET_SOURCE, GREETING_PROJECT } from "../support/git-remote.ts";
import { checkSuiteCompletedPayload, issueCommentPayload, pullRequestEventPayload, testRepo, workflowRunCompletedPayload } from "../support/github-fixtures.ts";
import { APP_ID } from "../support/probot.ts";
import { agentScript } from "../support/scripted-model.ts";
import { waitUntil } from "../support/wait-until.ts";

const e2e = useEndToEnd();
const BRANCH = "agent/7-add-a-greeting-function";
const FIXED_SOURCE = "exports.greet = (name) => `Hello, ${name}!`; // lint: fixed\n";

/** The issue's job writes greet.js; a CI round (its prompt says "CI failed on") fixes what the log says. */
function script(): (request: ModelRequest) => Turn {
  const defaults = agentScript({ build: [] }) as (request: ModelRequest) => Turn;
  return (request) => {
    if (request.agent !== "build") return defaults(request);
    const ciRound = request.lastUserText.includes("CI failed on");
    const write = (content: string): Turn => ({ toolCalls: [{ name: "write", arguments: { filePath: "greet.js", content } }] });
    if (request.turnIndex === 0) return write(ciRound ? FIXED_SOURCE : GREET_SOURCE);
    return { text: ciRound ? "Fixed the lint error in greet.js." : "Added greet()." };
  };
}

describe("CI on the agent's pull request is part of the job", () => {
  it("fixes what a failing check suite found, once per commit, up to ci.max_rounds; a person's push and the cap stop it", async () => {
    const remote = await createGitRemote({ ...GREETING_PROJECT, ".github/agent.yml": "ci:\n  max_rounds: 1\n" });
    let github: FakeGitHub | undefined;
    try {
      e2e.model = await startModelServer(script());
      const failingOn = new Map<string, FakeForeignCheckRun[]>();
      github = await startFakeGitHubFor(remote, {
        checkRunsFrom: (ref) => failingOn.get(ref) ?? [],
        jobLogs: { 777: "2026-12-05T10:00:00Z ##[group]Run npm run lint\n> eslint .\n/home/runner/work/greet.js\n  1:52  error  NONCE-CI-LOG-6617 Missing semicolon  semi\n\n✖ 1 problem (1 error, 0 warnings)\n##[error]Process completed with exit code 1.\n" },
      });
      e2e.harness = await startAppOnFakeGitHub(github, e2e.model);
      const harness = e2e.harness;
      const jobRows = async () => (await harness.database.db.select().from(jobs)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());

      await deliver(harness, remote, "issue_comment", issueCommentPayload({ body: "/agent add greet(name)", repo: testRepo() }));
      const first = await harness.waitForJob((job) => job.finishedAt !== null);
      expect(first).toMatchObject({ status: "completed", prNumber: 100 });
      const agentCommit = remote.git("rev-parse", BRANCH);

      // Lint fails on the agent's commit; GitHub says so twice (the suite and the workflow run): one round.
      failingOn.set(agentCommit, [{ id: 777, name: "lint (ubuntu, 22)", status: "completed", conclusion: "failure", app: ACTIONS_APP }]);
      await deliver(harness, remote, "check_suite", checkSuiteCompletedPayload({ headSha: agentCommit, conclusion: "failure" }));
      await deliver(harness, remote, "workflow_run", workflowRunCompletedPayload({ headSha: agentCommit, conclusion: "failure" }));
      await waitUntil(async () => (await jobRows()).length === 2 && (await jobRows())[1]!.finishedAt !== null, { what: "the CI round to end" });
      const round = (await jobRows())[1]!;
      expect(round).toMatchObject({ trigger: "ci", status: "completed", issueNumber: 100, branch: BRANCH, requesterLogin: "octocat" });
      expect(readCheckpoint(round).ci?.checks).toEqual(["lint (ubuntu, 22)"]);

      // The failing log reached the build agent, through the error extraction.
      const prompt = e2e.model.requests.filter((request) => request.model === "build").map((request) => JSON.stringify(request.messages)).find((text) => text.includes("CI failed on")) ?? "";
      expect(prompt).toContain("NONCE-CI-LOG-6617 Missing semicolon");
      expect(prompt).toContain("### lint (ubuntu, 22)");
      // Its push is the pull request's new head, on top of the agent's commit.
      const fixed = remote.git("rev-parse", BRANCH);
      expect(remote.git("rev-parse", `${fixed}^`)).toBe(agentCommit);
      expect(remote.git("show", `${fixed}:greet.js`)).toBe(FIXED_SOURCE.trim());
      const shown = github.requests.map((request) => JSON.stringify(request.body ?? ""));
      expect(shown.some((body) => body.includes("CI failed on `lint (ubuntu, 22)`: fixing, round 1 of 1"))).toBe(true);

      // Green on the fixed commit: nothing to do.
      await deliver(harness, remote, "check_suite", checkSuiteCompletedPayload({ headSha: fixed, conclusion: "success" }));
      // Not the agent's to fix: our own check suite, a fork's workflow run, a commit it did not push.
      await deliver(harness, remote, "check_suite", checkSuiteCompletedPayload({ headSha: fixed, conclusion: "failure", app: { id: APP_ID, slug: "running-agent" } }));
      await deliver(harness, remote, "workflow_run", workflowRunCompletedPayload({ headSha: fixed, conclusion: "failure", headRepoId: 4_242_424 }));
      await deliver(harness, remote, "check_suite", checkSuiteCompletedPayload({ headSha: "f".repeat(40), conclusion: "failure" }));
      expect(await jobRows()).toHaveLength(2);

      // It fails again on the fixed commit: the round cap (1) says so, once, and starts nothing.
      const commentsBefore = github.comments.size;
      await deliver(harness, remote, "check_suite", checkSuiteCompletedPayload({ headSha: fixed, conclusion: "failure" }));
      await deliver(harness, remote, "workflow_run", workflowRunCompletedPayload({ headSha: fixed, conclusion: "failure" }));
      const capped = [...github.comments.values()].slice(commentsBefore);
      expect(capped).toHaveLength(1);
      expect(capped[0]!.body).toMatch(/^CI still fails on [0-9a-f]{7} \(a check suite of GitHub Actions\) after 1 automatic round \(`ci.max_rounds`: 1\)/);

      // A person pushes: from then on the branch is theirs, even a failure of the agent's older commit.
      await deliver(harness, remote, "pull_request", pullRequestEventPayload({ action: "synchronize", number: 100, after: "e".repeat(40), sender: { login: "octocat", id: 583231 } }));
      await deliver(harness, remote, "check_suite", checkSuiteCompletedPayload({ headSha: "e".repeat(40), conclusion: "failure" }));
      expect(await jobRows()).toHaveLength(2);
      expect(github.comments.size).toBe(commentsBefore + 1);
    } finally {
      await e2e.harness?.stop();
      e2e.harness = undefined;
      await github?.close();
      await remote.cleanup();
    }
  });

  it("ends the loop, saying what still fails, when a round's commit fails the same way", async () => {
    let github: FakeGitHub | undefined;
    try {
      e2e.model = await startModelServer(script());
      const lint: FakeForeignCheckRun[] = [{ id: 777, name: "lint (ubuntu, 22)", status: "completed", conclusion: "failure", app: ACTIONS_APP }];
      github = await startFakeGitHubFor(e2e.remote, { checkRunsFrom: () => lint, jobLogs: { 777: "greet.js\n  1:52  error  Missing semicolon  semi\n##[error]Process completed with exit code 1.\n" } });
      e2e.harness = await startAppOnFakeGitHub(github, e2e.model);
      const harness = e2e.harness;
      const jobRows = async () => (await harness.database.db.select().from(jobs)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      const ended = (count: number) => async () => (await jobRows()).length === count && (await jobRows()).every((job) => job.finishedAt !== null);

      await deliver(harness, e2e.remote, "issue_comment", issueCommentPayload({ body: "/agent add greet(name)", repo: testRepo() }));
      await waitUntil(ended(1), { what: "the issue's job to end" });
      await deliver(harness, e2e.remote, "check_suite", checkSuiteCompletedPayload({ headSha: e2e.remote.git("rev-parse", BRANCH), conclusion: "failure" }));
      await waitUntil(ended(2), { what: "round 1 to end" });
      const buildPrompts = () => e2e.model!.requests.filter((request) => request.model === "build" && request.messages.at(-1)?.role === "user").length;
      const promptsAfterRound1 = buildPrompts();

      // Round 1's commit fails the same way: round 2 stops before any agent runs.
      await deliver(harness, e2e.remote, "check_suite", checkSuiteCompletedPayload({ headSha: e2e.remote.git("rev-parse", BRANCH), conclusion: "failure" }));
      await waitUntil(ended(3), { what: "round 2 to end" });
      const round2 = (await jobRows())[2]!;
      expect(round2).toMatchObject({ trigger: "ci", status: "failed", failureKind: "tests", followUp: { ci: { round: 2, maxRounds: 2 } } });
      expect(round2.failureMessage).toBe("CI still fails the same way after round 1: `lint (ubuntu, 22)`. Running Agent stops fixing it by itself");
      expect(buildPrompts()).toBe(promptsAfterRound1);
      await waitUntil(() => [...github!.comments.values()].some((comment) => comment.body.includes("CI still fails the same way after round 1")), { what: "the progress comment to say what still fails" });
    } finally {
      await github?.close();
    }
  });
});
