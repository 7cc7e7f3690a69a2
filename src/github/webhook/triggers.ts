import type { Context, Probot } from "probot";
import { checkRunRequest } from "../../pipelines/check-run-request.ts";
import { findJobByCheckRun } from "../../store/job-queries.ts";
import { isBot } from "../authorize-sender.ts";
import { parseCommand, type AgentCommand } from "./command.ts";
import { followUpOnPullRequest, type PullRequestFields } from "./pull-request-triggers.ts";
import { readRepoConfig } from "../repo-config-file.ts";
import { reviewCommentTarget } from "../review-comments.ts";
import { cancelOnThread, retryOnThread } from "./thread-commands.ts";
import { startPipelineRun } from "../../pipelines/start-pipeline-run.ts";
import { showRun } from "../show/show-run.ts";
import { ALREADY_PROCESSED, inBackground, installationIdOf, replyOnce, senderMayAct, startJob, triggerOf, type Trigger, type TriggerContext, type TriggerDeps } from "./trigger-kit.ts";
import { USAGE } from "./help-text.ts";
import { registerPullRequestOutcomes } from "./pull-request-outcomes.ts";
import { registerCiRounds } from "./ci-rounds.ts";

export type { TriggerDeps } from "./trigger-kit.ts";

export const AGENT_LABEL = "agent";

/**
 * Webhook entry points. Each only verifies, authorizes, writes and enqueues: GitHub waits
 * at most 10 s for the answer, and the agent's work belongs to a worker. Everything a job
 * is asked to do is read from the signed payload (or, for a pull request's branch, from
 * GitHub at that moment), never from text edited later.
 */
export function registerTriggers(app: Probot, deps: TriggerDeps): void {
  app.on("issue_comment.created", (context) => onIssueComment(context, deps));
  app.on("issues.labeled", (context) => onIssueLabeled(context, deps));
  app.on("pull_request_review_comment.created", (context) => onReviewComment(context, deps));
  app.on("pull_request_review.submitted", (context) => onReviewSubmitted(context, deps));
  app.on("check_run.requested_action", (context) => onCheckRunAction(context, deps));
  registerPullRequestOutcomes(app, deps);
  registerCiRounds(app, deps);
}

async function onIssueComment(context: Context<"issue_comment.created">, deps: TriggerDeps): Promise<void> {
  const { comment, issue, sender } = context.payload;
  const command = parseCommand(comment.body);
  if (command === null || isBot(sender)) return;
  const trigger = triggerOf(context as unknown as TriggerContext, deps);
  if (!(await senderMayAct(trigger, sender, issue.number))) return;
  if (await answerThreadCommand(trigger, command, { issueNumber: issue.number, by: sender, commentId: comment.id })) return;
  if (command.kind !== "task") return;
  const requester = { login: sender.login, id: sender.id };
  if (issue.pull_request) {
    const { data: pullRequest } = await context.octokit.rest.pulls.get({ owner: trigger.repo.owner, repo: trigger.repo.name, pull_number: issue.number });
    await followUpOnPullRequest(trigger, {
      pullRequest,
      feedback: command.task,
      requester,
      triggerCommentId: comment.id,
      triggeredAt: comment.created_at,
      reviewTargets: [],
      trigger: "comment",
    });
    return;
  }
  await startJob(trigger, {
    issue: { number: issue.number, title: issue.title, isPullRequest: false },
    trigger: "comment",
    task: command.task,
    requester,
    triggerCommentId: comment.id,
  });
}

async function onIssueLabeled(context: Context<"issues.labeled">, deps: TriggerDeps): Promise<void> {
  const { issue, label, sender } = context.payload;
  if (label?.name.toLowerCase() !== AGENT_LABEL || isBot(sender)) return;
  const trigger = triggerOf(context as unknown as TriggerContext, deps);
  if (!(await senderMayAct(trigger, sender, issue.number))) return;
  await startJob(trigger, {
    issue: { number: issue.number, title: issue.title, isPullRequest: false },
    trigger: "label",
    // The description, the discussion and what they link to are read by the worker when the job starts (issue-task-context.ts).
    task: issue.title.trim(),
    requester: { login: sender.login, id: sender.id },
    triggerCommentId: null,
  });
}

/** `/agent …` in a comment on a line of a pull request: the line, its file and hunk come with the task. */
async function onReviewComment(context: Context<"pull_request_review_comment.created">, deps: TriggerDeps): Promise<void> {
  const { comment, pull_request: pullRequest, sender } = context.payload;
  const command = parseCommand(comment.body);
  if (command === null || isBot(sender)) return;
  const trigger = triggerOf(context as unknown as TriggerContext, deps);
  if (!(await senderMayAct(trigger, sender, pullRequest.number))) return;
  if (await answerThreadCommand(trigger, command, { issueNumber: pullRequest.number, by: sender, commentId: null })) return;
  if (command.kind !== "task") return;
  // A review whose summary says `/agent` handles all of its comments in one job.
  if (comment.pull_request_review_id && (await reviewAsksAgent(trigger, pullRequest.number, comment.pull_request_review_id))) return;
  await followUpOnPullRequest(trigger, {
    pullRequest: pullRequest as PullRequestFields,
    feedback: command.task,
    requester: { login: sender.login, id: sender.id },
    triggerCommentId: null,
    triggeredAt: comment.created_at,
    reviewTargets: [reviewCommentTarget(comment)],
    trigger: "review",
  });
}

/** A submitted review whose summary says `/agent …`: one job for all of the review's comments. */
async function onReviewSubmitted(context: Context<"pull_request_review.submitted">, deps: TriggerDeps): Promise<void> {
  const { review, pull_request: pullRequest, sender } = context.payload;
  const command = parseCommand(review.body ?? "");
  if (command === null || isBot(sender)) return;
  const trigger = triggerOf(context as unknown as TriggerContext, deps);
  if (!(await senderMayAct(trigger, sender, pullRequest.number))) return;
  if (await answerThreadCommand(trigger, command, { issueNumber: pullRequest.number, by: sender, commentId: null })) return;
  if (command.kind !== "task") return;
  // Its comments are listed by the worker (prepareFollowUpTask): the webhook must answer fast.
  await followUpOnPullRequest(trigger, {
    pullRequest: pullRequest as PullRequestFields,
    feedback: command.task,
    requester: { login: sender.login, id: sender.id },
    triggerCommentId: null,
    triggeredAt: review.submitted_at ?? new Date().toISOString(),
    reviewTargets: [],
    reviewId: review.id,
    trigger: "review",
  });
}

/** The "Retry" button of a failed check run: the same as `/agent retry`, for writers only. */
async function onCheckRunAction(context: Context<"check_run.requested_action">, deps: TriggerDeps): Promise<void> {
  const { check_run: checkRun, requested_action: action, sender } = context.payload;
  if (action?.identifier !== "retry" || isBot(sender)) return;
  const trigger = triggerOf(context as unknown as TriggerContext, deps);
  const job = await findJobByCheckRun(deps.db, checkRun.id);
  if (!job) {
    trigger.log.info({ checkRunId: checkRun.id }, "retry requested on a check run no job has; ignored");
    return;
  }
  if (!(await senderMayAct(trigger, sender, job.issueNumber))) return;
  await retryOnThread(trigger, { target: { checkRunId: checkRun.id }, issueNumber: job.issueNumber, commentId: null });
}

/** help, invalid, cancel, retry and run: the commands that do not start work on a task. True when answered. */
async function answerThreadCommand(trigger: Trigger, command: AgentCommand, where: { issueNumber: number; by: { login: string; id: number }; commentId: number | null }): Promise<boolean> {
  switch (command.kind) {
    case "task":
      return false;
    case "help":
      await replyOnce(trigger, "help", where.issueNumber, USAGE);
      return true;
    case "invalid":
      await replyOnce(trigger, "invalid_command", where.issueNumber, `${command.reason}\n\n${USAGE}`);
      return true;
    case "cancel":
      await cancelOnThread(trigger, { issueNumber: where.issueNumber, by: where.by.login, commentId: where.commentId });
      return true;
    case "retry":
      await retryOnThread(trigger, { target: { thread: { repoId: trigger.repo.id, issueNumber: where.issueNumber } }, issueNumber: where.issueNumber, commentId: where.commentId });
      return true;
    case "run":
      await answerRunRequest(trigger, command, where);
      return true;
  }
}

/**
 * `/agent run <pipeline> [key=value …]`: the pipeline file is checked first, so a malformed
 * one is reported with its lines before anything runs. Then the run and its first steps
 * are recorded with the delivery, and shown on the thread after the answer to GitHub.
 */
async function answerRunRequest(trigger: Trigger, command: Extract<AgentCommand, { kind: "run" }>, where: { issueNumber: number; by: { login: string; id: number }; commentId: number | null }): Promise<void> {
  const { repo, deps } = trigger;
  const text = await readRepoConfig(trigger.context.octokit, repo.owner, repo.name, repo.defaultBranch);
  const check = checkRunRequest(text, command);
  if (!check.ok) return replyOnce(trigger, "run_refused", where.issueNumber, check.reply);
  const run = await startPipelineRun(deps.pool, deps.boss, {
    installationId: installationIdOf(trigger.context),
    repo,
    issueNumber: where.issueNumber,
    pipelineName: command.pipeline,
    pipeline: check.pipeline,
    inputs: check.inputs,
    requester: { login: where.by.login, id: where.by.id },
    delivery: trigger.delivery,
  });
  if (!run) return trigger.log.info(ALREADY_PROCESSED);
  trigger.log.info({ runId: run.id, pipeline: command.pipeline }, "pipeline run started");
  const { octokit } = trigger.context;
  inBackground(
    deps,
    (async () => {
      if (where.commentId !== null) await octokit.rest.reactions.createForIssueComment({ owner: repo.owner, repo: repo.name, comment_id: where.commentId, content: "eyes" });
      await showRun(deps.pool, octokit, run.id);
    })(),
    (error) => trigger.log.warn({ err: error, runId: run.id }, "showing the pipeline run failed; its steps show it as they run"),
  );
}

async function reviewAsksAgent(trigger: Trigger, pullNumber: number, reviewId: number): Promise<boolean> {
  const { data: review } = await trigger.context.octokit.rest.pulls.getReview({ owner: trigger.repo.owner, repo: trigger.repo.name, pull_number: pullNumber, review_id: reviewId });
  return parseCommand(review.body ?? "")?.kind === "task";
}
