import type { ProbotOctokit } from "probot";
import { JobError } from "../../job-error.ts";
import { readCheckpoint, withCheckpoint } from "../../jobs/checkpoint.ts";
import { renderFollowUpTask } from "../../jobs/follow-up-task.ts";
import type { JobRun } from "../../jobs/job-run.ts";
import { earlierJobOf } from "../../store/job-queries.ts";
import { errorSimilarity } from "../../verify/error-similarity.ts";
import { extractErrors } from "../../verify/extract-errors.ts";
import { githubJobError, statusOf } from "../http-status.ts";

/** Failing checks read, at most: a red commit with dozens of failing jobs shows the first ones. */
const MAX_CHECKS = 5;
/** The end of a log is where its errors are; a multi-megabyte log is read from there. */
const MAX_LOG_CHARS = 2_000_000;
const ERROR_TOKENS_PER_CHECK = 600;
const FAILED = new Set(["failure", "timed_out"]);

/**
 * A CI round's task (ci-rounds.ts started the job): the failing checks of the commit, and
 * what they printed, through the same error extraction the verify loop uses: GitHub
 * Actions jobs' logs, or another CI's check run output. Rendered once into the checkpoint,
 * with the errors, so the next round can tell a failure that did not change, and end the
 * loop instead of trying the same thing again.
 */
export async function prepareCiTask(run: JobRun, octokit: ProbotOctokit, appId: number | undefined): Promise<void> {
  const job = run.job;
  const followUp = job.followUp!;
  const ci = followUp.ci!;
  if (readCheckpoint(job).followUp) return;
  const short = ci.headSha.slice(0, 7);
  // The branch as the job found it (resolve-base.ts): someone pushed after the failure, while the round waited its turn.
  if (job.baseSha !== null && job.baseSha !== ci.headSha) {
    throw new JobError("no_changes", `\`${job.branch}\` moved on from ${short} to ${job.baseSha.slice(0, 7)} since CI failed there: CI on the new commit decides whether there is anything to fix`, {
      nextStep: "Nothing to do: a failure on a commit the agent pushes starts the next round by itself.",
    });
  }
  const failing = await failingChecksOf(run, octokit, ci.headSha, appId);
  if (failing.length === 0) {
    throw new JobError("no_changes", `CI passes on ${short} now (a check was re-run, or its failure was withdrawn): nothing to fix`, { nextStep: "Nothing to do." });
  }
  const names = failing.map((check) => check.name);
  const errors = failing.map((check) => `### ${check.name}\n${check.errors}`).join("\n\n");
  const earlier = await earlierJobOf(run.deps.db, job, followUp.pullRequest.number);
  const previous = earlier?.trigger === "ci" ? readCheckpoint(earlier).ci : undefined;
  if (previous && errorSimilarity(previous.errors, errors) >= run.deps.settings.debugSimilarity) {
    throw new JobError("tests", `CI still fails the same way after round ${ci.round - 1}: ${names.map((name) => `\`${name}\``).join(", ")}. Running Agent stops fixing it by itself`, {
      nextStep: "Look at the failing checks on the pull request, and comment `/agent <feedback>` with what to try.",
    });
  }
  const feedback = [
    `CI failed on ${short}, round ${ci.round} of ${ci.maxRounds} of fixing it automatically. The failing checks and what they printed:`,
    "",
    errors,
    "",
    "Make these checks pass. Fix the cause: do not weaken, skip or delete tests or checks.",
  ].join("\n");
  const task = renderFollowUpTask({
    pullRequest: { number: followUp.pullRequest.number, title: followUp.pullRequest.title, body: null, headRef: followUp.pullRequest.headRef },
    feedback,
    targets: [],
    discussion: [],
    earlier: earlier ? { task: earlier.task, summary: readCheckpoint(earlier).pushed?.summary ?? "" } : null,
  });
  await run.record({ checkpoint: { ...withCheckpoint(job, "followUp", { task }), ci: { checks: names, errors } } });
  await run.event("ci", `CI failed on ${short}: ${names.join(", ")}; round ${ci.round} of ${ci.maxRounds}`, { checks: names });
}

interface FailingCheck {
  name: string;
  errors: string;
}

/** The commit's failed check runs, ours left out, each with its extracted errors. */
async function failingChecksOf(run: JobRun, octokit: ProbotOctokit, headSha: string, appId: number | undefined): Promise<FailingCheck[]> {
  const { repoOwner: owner, repoName: repo } = run.job;
  const checkRuns = await octokit.paginate(octokit.rest.checks.listForRef, { owner, repo, ref: headSha, filter: "latest", per_page: 100 }).catch((error: unknown) => {
    throw githubJobError(error, `listing the check runs of ${headSha.slice(0, 7)}`);
  });
  const failing = checkRuns.filter((check) => check.status === "completed" && FAILED.has(check.conclusion ?? "") && check.app?.id !== appId).slice(0, MAX_CHECKS);
  const checks: FailingCheck[] = [];
  for (const check of failing) {
    const output = check.app?.slug === "github-actions" ? await actionsLogOf(octokit, { owner, repo, jobId: check.id }) : null;
    const text = output ?? [check.output?.title, check.output?.summary, check.output?.text].filter(Boolean).join("\n");
    const errors = text.trim() === "" ? `(${check.conclusion}; it printed nothing the app can read)` : extractErrors(text.slice(-MAX_LOG_CHARS), { maxTokens: ERROR_TOKENS_PER_CHECK }).text;
    checks.push({ name: check.name, errors });
  }
  return checks;
}

/** A GitHub Actions job's log (the check run's id is the job's); null when GitHub has none to give (expired, or no `actions: read`). */
async function actionsLogOf(octokit: ProbotOctokit, where: { owner: string; repo: string; jobId: number }): Promise<string | null> {
  try {
    const { data } = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ owner: where.owner, repo: where.repo, job_id: where.jobId });
    return typeof data === "string" ? data : Buffer.from(data as ArrayBuffer).toString("utf8");
  } catch (error) {
    const status = statusOf(error);
    if (status === 403 || status === 404 || status === 410) return null;
    throw error;
  }
}
