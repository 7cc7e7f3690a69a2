import { commitAll, hasChanges } from "../sandbox/git-workspace.ts";
import { pushWork } from "../sandbox/push-work.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { WorkRepository } from "../sandbox/work-repository.ts";
import type { Job } from "../store/jobs.sql.ts";
import { withCheckpoint, type BuildState, type PushedWork } from "./checkpoint.ts";
import { JobError } from "../job-error.ts";
import type { JobRun } from "./job-run.ts";

export interface WorkToPush {
  /** The job's work repository on the worker, which pushes; the sandbox only hands over a bundle. */
  repository: WorkRepository;
  /** Null where git needs no credentials (a repository on this machine). */
  token: string | null;
  build: BuildState;
}

/** Steps of a run push to its one branch; two that ran side by side may change the same lines. */
const PIPELINE_STEPS_SHARE = {
  who: "another step of this pipeline run",
  nextStep: "Make one of the two steps depend on the other (`depends_on`), or have them change different files, then run the pipeline again.",
};

/** Commit what the agent left, push it without force, and checkpoint the pushed work. */
export async function commitAndPush(run: JobRun, sandbox: Sandbox, work: WorkToPush): Promise<PushedWork> {
  const job = run.job;
  const baseSha = job.baseSha!;
  // DESIGN §6: never the default branch, whatever a trigger let through.
  if (job.branch === job.defaultBranch) throw new JobError("push", `refusing to push to the default branch (${job.defaultBranch})`);
  if (!(await hasChanges(sandbox, baseSha))) {
    throw new JobError("no_changes", `the agent finished without changing any file. Its last words: ${work.build.summary.slice(0, 500)}`);
  }
  const summary = run.redact(work.build.summary);
  await commitAll(sandbox, commitMessage(job, summary));
  // A branch others push to (a pull request's) may move while the agent works: replay on top of it.
  // So does a pipeline step: steps that ran in parallel push to the run's one branch in turn.
  const rebaseIfMoved = job.baseBranch === job.branch || job.pipelineRunId !== null;
  const sharedWith = job.pipelineRunId === null ? undefined : PIPELINE_STEPS_SHARE;
  const remote = { url: job.cloneUrl, token: work.token };
  const { sha, files } = await pushWork(sandbox, work.repository, { remote, branch: job.branch, base: baseSha, rebaseIfMoved, ...(sharedWith ? { sharedWith } : {}) });
  const verification = work.build.verification;
  const pushed: PushedWork = {
    sha,
    files,
    summary,
    testsPassed: verification?.testsPassed ?? null,
    checksPassed: verification?.passed ?? true,
    testSummary: run.redact(verification?.summary ?? ""),
  };
  await run.record({ checkpoint: withCheckpoint(job, "pushed", pushed) });
  await run.event("push", `pushed ${files.length} changed file(s) to ${job.branch}`, { sha, files });
  return pushed;
}

/**
 * A pipeline step that changed no file (it only looked, and reported an output) pushes
 * nothing and still succeeds; any other job without changes fails with `no_changes`.
 */
export async function commitAndPushStep(run: JobRun, sandbox: Sandbox, work: WorkToPush): Promise<PushedWork> {
  if (await hasChanges(sandbox, run.job.baseSha!)) return commitAndPush(run, sandbox, work);
  const verification = work.build.verification;
  const unchanged: PushedWork = {
    sha: run.job.baseSha!,
    files: [],
    summary: run.redact(work.build.summary),
    testsPassed: verification?.testsPassed ?? null,
    checksPassed: verification?.passed ?? true,
    testSummary: run.redact(verification?.summary ?? ""),
  };
  await run.record({ checkpoint: withCheckpoint(run.job, "pushed", unchanged) });
  await run.event("push", "the step changed no file: nothing to push");
  return unchanged;
}

function commitMessage(job: Job, summary: string): string {
  const body = summary.trim().slice(0, 4_000);
  // A run on the user's machine has no issue to point at, and its requester is the committer's own user.
  if (job.trigger === "local") return [truncateLine(job.issueTitle.trim(), 72) || "Changes requested", "", body, ""].join("\n");
  const firstLine = job.task.split("\n")[0]?.trim() ?? "";
  const title = job.followUp ? `Follow-up: ${firstLine}` : job.pipelineStep !== null ? `${job.issueTitle}: ${firstLine}` : job.issueTitle.trim();
  // A pipeline run started through the REST API has no issue (0).
  const subject = `${truncateLine(title, 64) || "Changes requested"}${job.issueNumber > 0 ? ` (#${job.issueNumber})` : ""}`;
  // Asked through the REST API or a pipeline started there: no GitHub user to credit.
  if (job.requesterId === 0) return [subject, "", body, ""].join("\n");
  const coAuthor = `Co-authored-by: ${job.requesterLogin} <${job.requesterId}+${job.requesterLogin}@users.noreply.github.com>`;
  return [subject, "", body, "", coAuthor, ""].join("\n");
}

function truncateLine(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
