import type { ProbotOctokit } from "probot";
import type pg from "pg";
import type { Logger } from "pino";
import { readCheckpoint } from "../../jobs/checkpoint.ts";
import { commitAndPush, commitAndPushStep } from "../../jobs/commit-and-push.ts";
import { openPullRequestFor } from "./open-pull-request.ts";
import type { JobError } from "../../job-error.ts";
import type { RoleLookup } from "../authorize-sender.ts";
import { prepareFollowUpTask, replyToReviewThreads } from "./follow-up.ts";
import type { FollowUpOutcome } from "../../jobs/follow-up-task.ts";
import type { JobHost } from "../../jobs/job-host.ts";
import { createGitHubProgressWriter } from "../show/progress-writer.ts";
import type { JobRun } from "../../jobs/job-run.ts";
import { proposePatch } from "./propose-patch.ts";
import { repositoryEgress } from "./repository-egress.ts";
import { resolveBase } from "./resolve-base.ts";
import { recordAgentPullRequest, recordAgentPush } from "../../store/pull-request-queries.ts";
import { attachIssueImages, prepareIssueContext } from "./issue-task-context.ts";
import type { IssueContextMode } from "../../jobs/issue-task.ts";
import { ensureAnnounced } from "../show/announce-job.ts";
import { showJobState } from "../show/show-job-state.ts";

export interface GitHubHostInput {
  pool: pg.Pool;
  /** Authenticated as the installation: comments, check runs, pull requests. */
  octokit: ProbotOctokit;
  /** A token for git only: this one repository, `contents: write`, nothing else. */
  repositoryToken(): Promise<string>;
  /** Who may be quoted to the agent: discussion from people without write access is left out. */
  lookUpRole: RoleLookup;
  /** `AGENT_ISSUE_CONTEXT`: whether text by people without write access reaches the agent (marked) or not at all. */
  issueContext: IssueContextMode;
  /** This GitHub App's id: its own check runs are not CI for a CI round to fix. */
  appId?: number;
  log: Logger;
  now: () => Date;
}

/**
 * A job asked for on GitHub: progress in its check run and its one comment, the work
 * pushed to a branch of the repository (or proposed as a patch, for a fork), and a pull
 * request, or answers in the review threads of the pull request it followed up on. A
 * pipeline step pushes to its run's branch and leaves the pull request to the run.
 */
export function githubHost(input: GitHubHostInput): JobHost {
  const { octokit } = input;
  const issueContext = { octokit, lookUpRole: input.lookUpRole, mode: input.issueContext, token: input.repositoryToken, downloaded: new Map<string, Buffer>() };
  return {
    announce: (jobId) => ensureAnnounced(input.pool, octokit, jobId, input.now),
    // The web process announces the jobs it makes from a webhook delivery, after its answer
    // (trigger-kit.ts `startJob`); a pipeline's steps, API tasks and the jobs that messages
    // become have no delivery, and nobody else announces them.
    announcedElsewhere: (job) => job.deliveryId !== null,
    showState: async (job) => {
      await showJobState(input.pool, octokit, job, input.log);
    },
    progress: createGitHubProgressWriter(octokit, input.log, { now: input.now }),
    prepare: (run) => run.step("prepare", () => resolveBase(run, octokit)),
    async gatherTask(run) {
      await run.step("prepare", () => prepareFollowUpTask(run, octokit, input.lookUpRole, input.appId));
      await run.step("prepare", () => prepareIssueContext(run, issueContext));
    },
    attach: (run, sandbox) => attachIssueImages(run, sandbox, issueContext),
    gitToken: () => input.repositoryToken(),
    egress: (run) => repositoryEgress(run, octokit),
    publish(run, sandbox, work) {
      if (run.job.followUp?.fork) return proposePatch(run, octokit, sandbox, work.build);
      return run.job.pipelineRunId === null ? commitAndPush(run, sandbox, work) : commitAndPushStep(run, sandbox, work);
    },
    async deliver(run, pushed) {
      const followUp = run.job.followUp;
      // A pipeline step's work is on the run's branch; the run opens one pull request when it is over.
      if (run.job.pipelineRunId !== null) {
        await run.finish("completed", {});
        return;
      }
      if (!followUp) {
        const pullRequest = await run.step("deliver", () => openPullRequestFor(run, octokit, pushed));
        const job = run.job;
        // Its outcome (merged or not) is the product's headline number (pull-request-outcomes.ts); CI on its head is the agent's to fix (ci-rounds.ts).
        await recordAgentPullRequest(run.deps.db, {
          installationId: job.installationId,
          repoId: job.repoId,
          repoOwner: job.repoOwner,
          repoName: job.repoName,
          number: pullRequest.number,
          url: pullRequest.url,
          jobId: job.id,
          pipelineRunId: null,
          requestedAt: job.createdAt,
          agentHeadSha: pushed.sha,
        });
        await run.finish("completed", { prUrl: pullRequest.url, prNumber: pullRequest.number });
        return;
      }
      // CI that fails on this commit is the agent's to fix (ci-rounds.ts); a fork's patch is only proposed.
      if (!followUp.fork) await recordAgentPush(run.deps.db, { repoId: run.job.repoId, number: followUp.pullRequest.number, headSha: pushed.sha });
      await run.finish("completed", { prUrl: followUp.pullRequest.url, prNumber: followUp.pullRequest.number });
      // A fork's threads are answered by the patch comment: there is no commit to point at.
      if (!followUp.fork) await replyToReviewThreads(run, octokit, { kind: "pushed", commitSha: pushed.sha, checksPassed: pushed.checksPassed, summary: pushed.summary });
    },
    async failed(run, error) {
      if (!run.job.followUp) return;
      await replyToReviewThreads(run, octokit, followUpFailureOf(run, error)).catch((replyError: unknown) => run.log.warn({ err: replyError }, "replying in the review threads failed"));
    },
  };
}

/** What the review threads hear about a follow-up that ended without pushing. */
function followUpFailureOf(run: JobRun, error: JobError): FollowUpOutcome {
  if (error.kind === "no_changes") return { kind: "unchanged", summary: readCheckpoint(run.job).build?.summary ?? "" };
  return { kind: "failed", reason: `${run.redact(error.message)}. ${error.nextStep}` };
}
