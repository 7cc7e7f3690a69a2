import { cancelJobs, retryJob, type JobTarget } from "../../jobs/thread-control.ts";
import type { Job } from "../../store/jobs.sql.ts";
import { cancelRunsOnThread, reopenStep } from "../../pipelines/advance-run.ts";
import { showJobChange } from "../show/show-job-change.ts";
import { showRun } from "../show/show-run.ts";
import { isDeliveryClaimed } from "../../jobs/create-job.ts";
import { stopCiRounds } from "../../store/pull-request-queries.ts";
import { ALREADY_PROCESSED, inBackground, type Trigger } from "./trigger-kit.ts";

/**
 * `/agent cancel`: every job of the thread that has not ended. Queued ones end here (and
 * GitHub is told after the answer); running ones are stopped by their worker, which
 * reports the cancellation itself.
 */
export async function cancelOnThread(trigger: Trigger, input: { issueNumber: number; by: string; commentId: number | null }): Promise<void> {
  const thread = { repoId: trigger.repo.id, issueNumber: input.issueNumber };
  // The delivery is claimed only with the jobs' cancellation, after the runs have been
  // cancelled: a redelivered or replayed cancel must be turned away before then, or it would
  // stop the runs started since.
  if (await isDeliveryClaimed(trigger.deps.db, trigger.delivery)) return trigger.log.info(ALREADY_PROCESSED);
  // Pipeline runs first: none of their steps may start once the thread's jobs are cancelled.
  const runs = await cancelRunsOnThread(trigger.deps.pool, thread, `@${input.by}`);
  const outcome = await cancelJobs(trigger.deps.pool, { thread }, `@${input.by}`, trigger.delivery);
  if (!outcome) return trigger.log.info(ALREADY_PROCESSED);
  // On the agent's pull request, cancel also means: no more automatic CI rounds (ci-rounds.ts).
  const ciStopped = await stopCiRounds(trigger.deps.db, { repoId: trigger.repo.id, number: input.issueNumber });
  const count = outcome.cancelled.length + outcome.stopping.length + runs.length;
  if (ciStopped && count === 0) {
    if (input.commentId !== null) await react(trigger, input.commentId, "+1");
    return reply(trigger, input.issueNumber, "Nothing was running; Running Agent will no longer fix this pull request's CI by itself. Comment `/agent <feedback>` to ask for more.");
  }
  trigger.log.info({ cancelled: outcome.cancelled.map((job) => job.id), stopping: outcome.stopping.map((job) => job.id) }, "cancel requested");
  if (count === 0) {
    await reply(trigger, input.issueNumber, "Nothing to cancel: no Running Agent job is running or queued on this thread.");
    return;
  }
  if (input.commentId !== null) await react(trigger, input.commentId, "+1");
  for (const job of outcome.cancelled) showState(trigger, job);
  for (const run of runs) showRunState(trigger, run.id);
}

/** `/agent retry` on a thread, or the check run's Retry button (`checkRunId`). */
export async function retryOnThread(trigger: Trigger, input: { target: JobTarget; issueNumber: number | null; commentId: number | null }): Promise<void> {
  const outcome = await retryJob(trigger.deps.pool, trigger.deps.boss, input.target, trigger.delivery, reopenStep);
  const issueNumber = input.issueNumber ?? ("job" in outcome ? outcome.job.issueNumber : null);
  switch (outcome.kind) {
    case "duplicate_delivery":
      return trigger.log.info(ALREADY_PROCESSED);
    case "none":
      if (issueNumber !== null) await reply(trigger, issueNumber, "There is no Running Agent job on this thread to retry. Comment `/agent <task>` to start one.");
      return;
    case "completed":
      await reply(trigger, outcome.job.issueNumber, `The last job succeeded${outcome.job.prUrl ? ` (${outcome.job.prUrl})` : ""}: there is nothing to retry. Comment \`/agent <task>\` to ask for more.`);
      return;
    case "not_ended":
      await reply(trigger, outcome.job.issueNumber, `The last job is still ${outcome.job.status}: comment \`/agent cancel\` to stop it, or wait for it to end.`);
      return;
    case "pipeline_step":
      await reply(trigger, outcome.job.issueNumber, `The last job here is the step \`${outcome.job.issueTitle}\` of a pipeline run that is still going: a step is retried once its run has ended (the run then goes on from it).`);
      return;
    case "retried":
      trigger.log.info({ jobId: outcome.job.id }, "job queued again");
      if (input.commentId !== null) await react(trigger, input.commentId, "+1");
      showState(trigger, outcome.job);
  }
}

/** After the answer to GitHub, so the webhook stays fast. */
function showState(trigger: Trigger, job: Job): void {
  const { deps, context, log } = trigger;
  const shown = showJobChange({ ...deps, octokitFor: async () => context.octokit, log }, job);
  inBackground(deps, shown, (error) => log.warn({ err: error, jobId: job.id }, "showing the job's new state on GitHub failed"));
}

function showRunState(trigger: Trigger, runId: string): void {
  inBackground(trigger.deps, showRun(trigger.deps.pool, trigger.context.octokit, runId), (error) => trigger.log.warn({ err: error, runId }, "showing the cancelled pipeline run failed"));
}

async function reply(trigger: Trigger, issueNumber: number, body: string): Promise<void> {
  await trigger.context.octokit.rest.issues.createComment({ owner: trigger.repo.owner, repo: trigger.repo.name, issue_number: issueNumber, body });
}

async function react(trigger: Trigger, commentId: number, content: "+1"): Promise<void> {
  await trigger.context.octokit.rest.reactions.createForIssueComment({ owner: trigger.repo.owner, repo: trigger.repo.name, comment_id: commentId, content }).catch((error: unknown) => {
    trigger.log.warn({ err: error }, "reacting to the command failed");
  });
}
