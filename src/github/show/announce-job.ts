import type { ProbotOctokit } from "probot";
import type pg from "pg";
import { ADVISORY_LOCKS, withAdvisoryLock } from "../../store/advisory-lock.ts";
import { drizzle } from "drizzle-orm/node-postgres";
import * as schema from "../../store/schema.ts";
import { findJob, updateJob } from "../../store/job-queries.ts";
import { NO_ISSUE, type Job } from "../../store/jobs.sql.ts";
import { checkConclusionOf, progressMarker, renderCheckRunOutput, renderProgressComment } from "./render-progress.ts";

export const CHECK_RUN_NAME = "Running Agent";
/** A pipeline step's check run is named after its pipeline and step. */
export function checkRunNameOf(job: Job): string {
  return job.pipelineRunId === null ? CHECK_RUN_NAME : `agent: ${job.pipelineName}/${job.pipelineStep}`;
}

/**
 * Make the job visible on GitHub: 👀 on the triggering comment (or on the issue, for the
 * label) first (the fastest feedback), then the progress comment, then a queued check run on the base commit.
 *
 * The web process calls this right after the webhook's transaction; the worker calls it
 * again before it starts. An advisory lock makes them take turns and each creates only
 * what is still missing, so a web process that died half-way costs nothing but a delay,
 * and nothing is created twice.
 */
function completedOrQueued(job: Job, at: Date) {
  const conclusion = checkConclusionOf(job);
  return conclusion ? { status: "completed" as const, conclusion, completed_at: at.toISOString() } : { status: "queued" as const };
}

/** Jobs of the same thread, asked for earlier, that have not ended: this one runs after them. */
async function countJobsAhead(client: pg.PoolClient, job: Job): Promise<number> {
  const { rows } = await client.query<{ count: string }>(
    "select count(*) from jobs where repo_id = $1 and issue_number = $2 and status in ('queued', 'running') and created_at < $3 and id <> $4",
    [job.repoId, job.issueNumber, job.createdAt, job.id],
  );
  return Number(rows[0]?.count ?? 0);
}

export async function ensureAnnounced(pool: pg.Pool, octokit: ProbotOctokit, jobId: string, now = () => new Date()): Promise<Job> {
  return announcingSlots(pool).run(() => withAdvisoryLock(pool, { namespace: ADVISORY_LOCKS.announceJob, key: jobId }, (client) => announce(client, octokit, jobId, now)));
}

/**
 * An announcement holds one of the pool's connections (its advisory lock) through GitHub
 * calls that Probot paces at about one write a second: a burst of jobs would otherwise take
 * every connection, and the webhooks behind them would wait for one (measured by bench:load:
 * at 20 deliveries a second, the twelfth `/agent` was answered after 9 s). At most a third
 * of the pool announces at once; the rest wait their turn without a connection.
 */
function announcingSlots(pool: pg.Pool): Slots {
  let slots = slotsByPool.get(pool);
  if (!slots) {
    slots = createSlots(Math.max(1, Math.floor((pool.options.max ?? 10) / 3)));
    slotsByPool.set(pool, slots);
  }
  return slots;
}

const slotsByPool = new WeakMap<pg.Pool, Slots>();

interface Slots {
  run<T>(work: () => Promise<T>): Promise<T>;
}

function createSlots(size: number): Slots {
  let busy = 0;
  const waiting: Array<() => void> = [];
  return {
    async run(work) {
      if (busy >= size) await new Promise<void>((resolve) => waiting.push(resolve));
      else busy += 1;
      try {
        return await work();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else busy -= 1;
      }
    },
  };
}

/** Under the job's announcement lock, on its connection. */
async function announce(client: pg.PoolClient, octokit: ProbotOctokit, jobId: string, now: () => Date): Promise<Job> {
  const db = drizzle(client, { schema });
  let job = await findJob(db, jobId);
  if (!job) throw new Error(`job ${jobId} does not exist`);
  const repo = { owner: job.repoOwner, repo: job.repoName };
  // A pipeline step shows in its own check run and in its run's comment, a task without an issue in its check run and the API.
  const ownComment = job.pipelineRunId === null && job.issueNumber !== NO_ISSUE;
  // An announcement that began before may have died after GitHub made something and before it was recorded.
  const resumed = job.announceStartedAt !== null;
  if (!resumed && ((ownComment && job.commentId === null) || job.checkRunId === null)) job = await updateJob(db, job.id, { announceStartedAt: now() });
  if (ownComment && job.triggerCommentId !== null && job.commentId === null) {
    await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: job.triggerCommentId, content: "eyes" });
  }
  if (ownComment && job.trigger === "label" && job.commentId === null) {
    await octokit.rest.reactions.createForIssue({ ...repo, issue_number: job.issueNumber, content: "eyes" });
  }
  if (job.baseSha === null) {
    // Before the paced writes (a read is not paced): a worker may start the job on it while the comment and check run are still to come.
    // A follow-up builds on the pull request's branch, and its check run shows on the pull request.
    const { data } = await octokit.rest.git.getRef({ ...repo, ref: `heads/${job.followUp ? job.branch : job.defaultBranch}` });
    job = await updateJob(db, job.id, { baseSha: data.object.sha });
  }
  if (ownComment && job.commentId === null) {
    const earlier = resumed ? await findProgressComment(octokit, job) : null;
    const waitingBehind = earlier === null ? await countJobsAhead(client, job) : 0;
    const commentId = earlier ?? (await octokit.rest.issues.createComment({ ...repo, issue_number: job.issueNumber, body: renderProgressComment(job, now(), { waitingBehind }) })).data.id;
    job = await updateJob(db, job.id, { commentId });
  }
  const earlierCheckRun = job.checkRunId === null && job.baseSha !== null && resumed ? await findCheckRun(octokit, job, job.baseSha) : null;
  if (earlierCheckRun !== null) job = await updateJob(db, job.id, { checkRunId: earlierCheckRun });
  if (job.checkRunId === null && job.baseSha !== null) {
    const { data } = await octokit.rest.checks.create({
      ...repo,
      name: checkRunNameOf(job),
      head_sha: job.baseSha,
      // A job cancelled before it was announced gets a check run that is already over.
      ...completedOrQueued(job, now()),
      external_id: job.id,
      output: renderCheckRunOutput(job, now()),
    });
    job = await updateJob(db, job.id, { checkRunId: data.id });
  }
  return job;
}

/**
 * The job's progress comment, made by an announcement that died before recording it: a
 * bot's comment since the job was created that starts with the job's marker (a person's
 * comment quoting the marker is not it).
 */
async function findProgressComment(octokit: ProbotOctokit, job: Job): Promise<number | null> {
  const marker = progressMarker(job.id);
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner: job.repoOwner, repo: job.repoName, issue_number: job.issueNumber, since: job.createdAt.toISOString(), per_page: 100 });
  return comments.find((comment) => comment.user?.type === "Bot" && (comment.body ?? "").startsWith(marker))?.id ?? null;
}

/** The job's check run on `headSha`, made by an announcement that died before recording it: the app's own run carrying the job's id. */
async function findCheckRun(octokit: ProbotOctokit, job: Job, headSha: string): Promise<number | null> {
  const runs = await octokit.paginate(octokit.rest.checks.listForRef, { owner: job.repoOwner, repo: job.repoName, ref: headSha, check_name: checkRunNameOf(job), filter: "all", per_page: 100 });
  return runs.find((run) => run.external_id === job.id)?.id ?? null;
}
