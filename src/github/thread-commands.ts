import { createJobReporter } from "../jobs/job-reporter.ts";
import { cancelThreadJobs, retryJob, type RetryTarget } from "../jobs/thread-control.ts";
import type { Job } from "../store/jobs.sql.ts";
import { ensureAnnounced } from "./announce-job.ts";
import { inBackground, type Trigger } from "./trigger-kit.ts";

/**
 * `/agent cancel`: every job of the thread that has not ended. Queued ones end here (and
 * GitHub is told after the answer); running ones are stopped by their worker, which
 * reports the cancellation itself.
 */
export async function cancelOnThread(trigger: Trigger, input: { issueNumber: number; by: string; commentId: number | null }): Promise<void> {
  const outcome = await cancelThreadJobs(trigger.deps.pool, { repoId: trigger.repo.id, issueNumber: input.issueNumber }, input.by, trigger.delivery);
  if (!outcome) return;
  const count = outcome.cancelled.length + outcome.stopping.length;
  trigger.log.info({ cancelled: outcome.cancelled.map((job) => job.id), stopping: outcome.stopping.map((job) => job.id) }, "cancel requested");
  if (count === 0) {
    await reply(trigger, input.issueNumber, "Nothing to cancel: no Running Agent job is running or queued on this thread.");
    return;
  }
  if (input.commentId !== null) await react(trigger, input.commentId, "+1");
  for (const job of outcome.cancelled) showState(trigger, job, { final: true });
}

/** `/agent retry` on a thread, or the check run's Retry button (`checkRunId`). */
export async function retryOnThread(trigger: Trigger, input: { target: RetryTarget; issueNumber: number | null; commentId: number | null }): Promise<void> {
  const outcome = await retryJob(trigger.deps.pool, trigger.deps.boss, input.target, trigger.delivery);
  const issueNumber = input.issueNumber ?? ("job" in outcome ? outcome.job.issueNumber : null);
  switch (outcome.kind) {
    case "duplicate_delivery":
      return;
    case "none":
      if (issueNumber !== null) await reply(trigger, issueNumber, "There is no Running Agent job on this thread to retry. Comment `/agent <task>` to start one.");
      return;
    case "succeeded":
      await reply(trigger, outcome.job.issueNumber, `The last job succeeded${outcome.job.prUrl ? ` (${outcome.job.prUrl})` : ""}: there is nothing to retry. Comment \`/agent <task>\` to ask for more.`);
      return;
    case "not_ended":
      await reply(trigger, outcome.job.issueNumber, `The last job is still ${outcome.job.status}: comment \`/agent cancel\` to stop it, or wait for it to end.`);
      return;
    case "retried":
      trigger.log.info({ jobId: outcome.job.id }, "job queued again");
      if (input.commentId !== null) await react(trigger, input.commentId, "+1");
      showState(trigger, outcome.job, { final: false });
  }
}

/** After the answer: a new check run for a retried job, and the progress comment showing the new state. */
function showState(trigger: Trigger, job: Job, options: { final: boolean }): void {
  const { context, deps, log } = trigger;
  const reporter = createJobReporter(context.octokit, log.child({ jobId: job.id }));
  // Through ensureAnnounced: it takes the job's announcement lock and re-reads the row, so
  // an announcement still in flight (its check run not created yet) is waited for, not missed.
  const shown = ensureAnnounced(deps.pool, context.octokit, job.id).then(async (announced: Job) => {
    if (options.final) return reporter.finish(announced);
    reporter.update(announced, { force: true });
    await reporter.flush();
  });
  inBackground(deps, shown, (error) => log.warn({ err: error, jobId: job.id }, "showing the job's new state on GitHub failed"));
}

async function reply(trigger: Trigger, issueNumber: number, body: string): Promise<void> {
  await trigger.context.octokit.rest.issues.createComment({ owner: trigger.repo.owner, repo: trigger.repo.name, issue_number: issueNumber, body });
}

async function react(trigger: Trigger, commentId: number, content: "+1"): Promise<void> {
  await trigger.context.octokit.rest.reactions.createForIssueComment({ owner: trigger.repo.owner, repo: trigger.repo.name, comment_id: commentId, content }).catch((error: unknown) => {
    trigger.log.warn({ err: error }, "reacting to the command failed");
  });
}
