import type { ProbotOctokit } from "probot";
import type { RoleLookup } from "../authorize-sender.ts";
import { gatherDiscussion } from "../pull-request-discussion.ts";
import { prepareCiTask } from "./ci-failure-task.ts";
import { listReviewTargets, replyInReviewThreads } from "../review-comments.ts";
import { earlierJobOf } from "../../store/job-queries.ts";
import type { Job } from "../../store/jobs.sql.ts";
import { readCheckpoint, withCheckpoint } from "../../jobs/checkpoint.ts";
import { renderFollowUpTask, renderThreadReplies, type FollowUpOutcome } from "../../jobs/follow-up-task.ts";
import type { JobRun } from "../../jobs/job-run.ts";

/**
 * A follow-up job works on a pull request's branch (see resolve-base.ts). These are the
 * steps it adds to the recipe: tell the agent what was asked and said, and answer in the
 * review threads at the end.
 */

/**
 * The follow-up's task, rendered once and kept in the checkpoint, so that a retry shows
 * the agent the same discussion (nothing said after the trigger ever gets in).
 */
export async function prepareFollowUpTask(run: JobRun, octokit: ProbotOctokit, lookUpRole: RoleLookup, appId?: number): Promise<void> {
  if (!run.job.followUp || readCheckpoint(run.job).followUp) return;
  if (run.job.followUp.ci) return prepareCiTask(run, octokit, appId);
  await listReviewTargetsOnce(run, octokit);
  const job = run.job;
  const followUp = job.followUp!;
  const earlier = await earlierJobOf(run.deps.db, run.job, followUp.pullRequest.number);
  const since = earlier?.createdAt ?? null;
  const discussion = await gatherDiscussion(
    octokit,
    {
      owner: job.repoOwner,
      repo: job.repoName,
      issueNumber: followUp.pullRequest.number,
      since,
      triggeredAt: new Date(followUp.triggeredAt),
      excludeCommentIds: [...(job.triggerCommentId === null ? [] : [job.triggerCommentId]), ...followUp.reviewTargets.map((target) => target.commentId)],
      ...(followUp.reviewId === undefined ? {} : { excludeReviewIds: [followUp.reviewId] }),
    },
    lookUpRole,
  );
  const task = renderFollowUpTask({
    pullRequest: followUp.pullRequest,
    feedback: job.task,
    targets: followUp.reviewTargets,
    discussion,
    earlier: earlier ? { task: earlier.task, summary: summaryOf(earlier) } : null,
  });
  await run.record({ checkpoint: withCheckpoint(job, "followUp", { task }) });
  await run.event("follow_up", `follow-up on #${followUp.pullRequest.number}: ${followUp.reviewTargets.length} review comment(s), ${discussion.length} discussion entr${discussion.length === 1 ? "y" : "ies"}${earlier ? `, after job ${earlier.id}` : ""}`);
}

/**
 * A review's comments, listed here rather than in the webhook handler (they can run to
 * several pages, and GitHub waits for the handler's answer), and kept on the job: the
 * replies at the end go to exactly these threads.
 */
async function listReviewTargetsOnce(run: JobRun, octokit: ProbotOctokit): Promise<void> {
  const followUp = run.job.followUp!;
  if (followUp.reviewId === undefined || followUp.reviewTargets.length > 0) return;
  const reviewTargets = await listReviewTargets(octokit, { owner: run.job.repoOwner, repo: run.job.repoName, pullNumber: followUp.pullRequest.number, reviewId: followUp.reviewId });
  await run.record({ followUp: { ...followUp, reviewTargets } });
}


function summaryOf(job: Job): string {
  const saved = readCheckpoint(job);
  return saved.pushed?.summary ?? saved.build?.summary ?? saved.plan?.summary ?? "";
}

/** Answer in each review thread the job was asked about: what was done, or why not. Never fatal. */
export async function replyToReviewThreads(run: JobRun, octokit: ProbotOctokit, outcome: FollowUpOutcome): Promise<void> {
  const job = run.job;
  const targets = job.followUp?.reviewTargets ?? [];
  if (targets.length === 0) return;
  const replies = renderThreadReplies(targets, outcome).map((reply) => ({ ...reply, body: run.redact(reply.body) }));
  const results = await replyInReviewThreads(octokit, { owner: job.repoOwner, repo: job.repoName, pullNumber: job.followUp!.pullRequest.number, replies });
  if (results.failed.length > 0) run.log.warn({ failed: results.failed }, "some review threads could not be answered");
  await run.event("review_replies", `replied in ${results.replied.length} of ${replies.length} review thread(s)`, { failed: results.failed });
}
