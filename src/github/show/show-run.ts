import type { ProbotOctokit } from "probot";
import type pg from "pg";
import { ADVISORY_LOCKS, withAdvisoryLock } from "../../store/advisory-lock.ts";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { readCheckpoint } from "../../jobs/checkpoint.ts";
import type { Db } from "../../store/database.ts";
import { jobs } from "../../store/jobs.sql.ts";
import { pipelineRuns, type PipelineRun } from "../../store/pipeline-runs.sql.ts";
import * as schema from "../../store/schema.ts";
import { ensureAnnounced } from "./announce-job.ts";
import { openOrUpdatePullRequest } from "../pull-request.ts";
import { recordAgentPullRequest } from "../../store/pull-request-queries.ts";
import { stepViewsOf, type StepView } from "../../pipelines/step-views.ts";
import { renderRunComment, renderRunPullRequestBody } from "./render-run.ts";

/**
 * Bring GitHub up to date with a run: a check run for each step started (`agent:
 * <pipeline>/<step>`), the run's pull request once it is over (one, from the run's
 * branch, if any step pushed work), and the run's comment with the DAG as a checklist.
 * Any process may call it at any time (after a step ends, a run starts or is cancelled, or
 * from the sweep when an earlier call failed and `shown_status` lags behind `status`):
 * an advisory lock makes callers take turns, and each renders from the rows as they are
 * then, so the comment never goes back to an older state and nothing is created twice.
 */
export async function showRun(pool: pg.Pool, octokit: ProbotOctokit, runId: string): Promise<PipelineRun | null> {
  return withAdvisoryLock(pool, { namespace: ADVISORY_LOCKS.showRun, key: runId }, async (client) => {
    const db: Db = drizzle(client, { schema });
    const [found] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.id, runId));
    if (!found) return null;
    let run = found;
    const stepJobs = await db.select().from(jobs).where(eq(jobs.pipelineRunId, runId));
    for (const job of stepJobs) {
      if (job.checkRunId === null && job.finishedAt === null) await ensureAnnounced(pool, octokit, job.id);
    }
    const views = stepViewsOf(run, stepJobs);
    // Opened when the run ends; brought up to date when it ends again (a failed step retried).
    if (run.status !== "running" && run.shownStatus !== run.status && views.some(pushedWork)) {
      const pullRequest = await openRunPullRequest(octokit, run, views);
      if (run.prUrl !== pullRequest.url) run = await saveRun(db, run.id, { prUrl: pullRequest.url, prNumber: pullRequest.number });
      await recordAgentPullRequest(db, {
        installationId: run.installationId,
        repoId: run.repoId,
        repoOwner: run.repoOwner,
        repoName: run.repoName,
        number: pullRequest.number,
        url: pullRequest.url,
        jobId: null,
        pipelineRunId: run.id,
        requestedAt: run.createdAt,
        // A run's branch holds several steps' pushes: its CI is left to people (no automatic rounds).
        agentHeadSha: null,
      });
    }
    const body = renderRunComment(run, views);
    if (run.commentId !== null) {
      await octokit.rest.issues.updateComment({ owner: run.repoOwner, repo: run.repoName, comment_id: run.commentId, body });
    } else if (run.issueNumber !== null) {
      const { data } = await octokit.rest.issues.createComment({ owner: run.repoOwner, repo: run.repoName, issue_number: run.issueNumber, body });
      run = await saveRun(db, run.id, { commentId: data.id });
    }
    // Only now is this status on GitHub: until then the sweep (`showStaleRuns`) tries again.
    if (run.shownStatus !== run.status) run = await saveRun(db, run.id, { shownStatus: run.status });
    return run;
  });
}

function pushedWork(view: StepView): boolean {
  return view.job !== null && (readCheckpoint(view.job).pushed?.files.length ?? 0) > 0;
}

/** One pull request for the run, from its branch; a draft unless every step succeeded. Reused if a crash left one open. */
function openRunPullRequest(octokit: ProbotOctokit, run: PipelineRun, views: readonly StepView[]): Promise<{ number: number; url: string }> {
  return openOrUpdatePullRequest(octokit, {
    owner: run.repoOwner,
    repo: run.repoName,
    head: run.branch,
    base: run.defaultBranch,
    title: `${run.pipelineName}: pipeline run`,
    body: renderRunPullRequestBody(run, views),
    draft: run.status !== "completed",
  });
}

async function saveRun(db: Db, runId: string, patch: Partial<PipelineRun>): Promise<PipelineRun> {
  const [saved] = await db.update(pipelineRuns).set({ ...patch, updatedAt: new Date() }).where(eq(pipelineRuns.id, runId)).returning();
  return saved!;
}
