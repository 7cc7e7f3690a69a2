import { sql } from "drizzle-orm";
import { bigint, boolean, doublePrecision, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const JOB_STATUSES = ["queued", "running", "completed", "failed", "cancelled", "timed_out"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** A job in these states has not ended: a worker may still run it. */
export const ACTIVE_JOB_STATUSES: JobStatus[] = ["queued", "running"];

export function hasEnded(status: JobStatus): boolean {
  return !ACTIVE_JOB_STATUSES.includes(status);
}
/** `pipeline`: a step of a pipeline run. `local`: `running-agent run` on a repository on the user's machine, no GitHub involved. */
export type JobTrigger = "comment" | "label" | "review" | "api" | "local" | "pipeline" | "ci";

/** Durations of a job's phases in milliseconds, keyed by phase name, plus `total`. */
export type JobTimings = Record<string, number>;

/** Model usage of one phase (explore, plan, build…), as opencode reported it. */
export interface PhaseUsage {
  cost: number;
  tokensIn: number;
  tokensOut: number;
}

/** A review comment the agent is asked to address: where it points, and what it says. */
export interface ReviewTarget {
  commentId: number;
  /**
   * The comment to reply to: the thread's first comment. GitHub refuses replies to replies,
   * so for a comment that is itself a reply this is its `in_reply_to_id`.
   */
  replyToId: number;
  path: string;
  /** The line commented on; null for a comment on the whole file. */
  line: number | null;
  /** First line of a multi-line comment; null for a single line. */
  startLine: number | null;
  /** RIGHT: the pull request's version of the file; LEFT: the base version (removed lines). */
  side: "LEFT" | "RIGHT";
  /** The comment was made on a diff that has changed since: `line` is where it was then. */
  outdated: boolean;
  /** The diff from the hunk's start down to the commented line (its last line). */
  diffHunk: string;
  /** Raw text as GitHub has it: sanitize and fence before it reaches a prompt. */
  body: string;
}

/** A follow-up on a pull request: the branch to work on and, for review comments, the lines they are about. */
export interface FollowUp {
  /** `body` is null when its author lacks write access: such text never reaches the agent. */
  pullRequest: { number: number; title: string; headRef: string; url: string; body: string | null };
  /** When the trigger was written: discussion created or edited after it is not shown to the agent. */
  triggeredAt: string;
  /** Review comments to act on (one for `/agent` in a review comment, all of a review's otherwise). */
  reviewTargets: ReviewTarget[];
  /** The review whose summary asked for the job: its comments are the targets, not discussion. */
  reviewId?: number;
  /**
   * A pull request from a fork, worked on read-only (AGENT_FORK_PULL_REQUESTS=propose): the
   * app cannot push there, so the job clones the fork at `headSha` and comments its patch.
   */
  fork?: { cloneUrl: string; fullName: string; headSha: string };
  /** Started by the product itself: the repository's CI failed on the agent's commit `headSha`; round `round` of at most `maxRounds`. */
  ci?: { headSha: string; round: number; maxRounds: number };
}

/** What became of a message: read by the agent, run as a job of its own after this one, or dropped with the cancelled job. Null while it waits. */
export type JobMessageOutcome = "delivered" | "follow_up" | "dropped";

/**
 * `/agent <more>` written on a thread while its job runs: handed to that job's agent at
 * its next step instead of waiting behind it as a job of its own. The request is kept
 * whole, so a message the agent can no longer take (the job is past its build, or failed)
 * becomes the job it would have been.
 */
export interface JobMessage {
  id: string;
  author: string;
  /** The comment that carried it: reacted to, linked from the progress comment. */
  commentId: number | null;
  /** The words after `/agent`, raw: sanitize and fence before they reach a prompt. */
  body: string;
  receivedAt: string;
  outcome: JobMessageOutcome | null;
  handledAt?: string;
  /** The job it became, for a `follow_up`. */
  followUpJobId?: string;
  /** The job it would have started. */
  request: JobRequestFields;
}

/**
 * The issue number of a job on no thread: a task asked through the API without an issue, a
 * step of a pipeline run started through the API, a job of `running-agent run`. It has no
 * comment of its own; its progress shows in its check run and through the API.
 */
export const NO_ISSUE = 0;

/** What a job is asked, taken from the signed payload: `JobRequest` (src/jobs/job-request.ts) without its delivery, as a message keeps it. */
export interface JobRequestFields {
  installationId: number;
  repo: { id: number; owner: string; name: string; cloneUrl: string; defaultBranch: string };
  issue: { number: number; title: string; isPullRequest: boolean };
  trigger: JobTrigger;
  task: string;
  requester: { login: string; id: number };
  triggerCommentId: number | null;
  /** Set for work on an existing pull request: the job commits to its head branch. */
  followUp?: FollowUp | null;
}

export const jobs = pgTable(
  "jobs",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    repoId: bigint("repo_id", { mode: "number" }).notNull(),
    repoOwner: text("repo_owner").notNull(),
    repoName: text("repo_name").notNull(),
    cloneUrl: text("clone_url").notNull(),
    defaultBranch: text("default_branch").notNull(),
    issueNumber: integer("issue_number").notNull(),
    issueTitle: text("issue_title").notNull(),
    isPullRequest: boolean("is_pull_request").notNull().default(false),
    trigger: text("trigger").$type<JobTrigger>().notNull(),
    task: text("task").notNull(),
    requesterLogin: text("requester_login").notNull(),
    requesterId: bigint("requester_id", { mode: "number" }).notNull(),
    deliveryId: text("delivery_id"),
    /** The comment whose `/agent` started the job, to react to. Null for label and API triggers. */
    triggerCommentId: bigint("trigger_comment_id", { mode: "number" }),
    status: text("status").$type<JobStatus>().notNull().default("queued"),
    phase: text("phase"),
    failureKind: text("failure_kind"),
    failureMessage: text("failure_message"),
    branch: text("branch").notNull(),
    baseSha: text("base_sha"),
    /** The branch `baseSha` was taken from: the default branch, unless the job continues an existing branch. */
    baseBranch: text("base_branch"),
    checkRunId: bigint("check_run_id", { mode: "number" }),
    commentId: bigint("comment_id", { mode: "number" }),
    /**
     * When an announcement first wrote to GitHub. Set, with `commentId` or `checkRunId`
     * still null, a process may have died after GitHub made the comment or check run and
     * before it was recorded: the next announcement looks for it before making another.
     */
    announceStartedAt: timestamp("announce_started_at", { withTimezone: true }),
    prUrl: text("pr_url"),
    prNumber: integer("pr_number"),
    totalCost: doublePrecision("total_cost").notNull().default(0),
    totalTokensIn: integer("total_tokens_in").notNull().default(0),
    totalTokensOut: integer("total_tokens_out").notNull().default(0),
    iterations: integer("iterations").notNull().default(0),
    testsPassed: boolean("tests_passed"),
    debugMode: boolean("debug_mode").notNull().default(false),
    resumedFromCheckpoint: boolean("resumed_from_checkpoint").notNull().default(false),
    explorationReportGenerated: boolean("exploration_report_generated").notNull().default(false),
    timings: jsonb("timings").$type<JobTimings>().notNull().default({}),
    usageByPhase: jsonb("usage_by_phase").$type<Record<string, PhaseUsage>>().notNull().default({}),
    checkpoint: jsonb("checkpoint").$type<Record<string, unknown>>(),
    attempts: integer("attempts").notNull().default(0),
    /** Set by `/agent cancel` (or the API) while the job runs; the worker running it stops within seconds. */
    cancelRequestedAt: timestamp("cancel_requested_at", { withTimezone: true }),
    cancelRequestedBy: text("cancel_requested_by"),
    /** Cost already spent when the job was last retried: a retry gets the budget afresh. */
    costBaseline: doublePrecision("cost_baseline").notNull().default(0),
    /** The sandbox this job parked for a follow-up on its pull request (workspace and agent session); null once taken or never parked. */
    parkedSandboxId: text("parked_sandbox_id"),
    /** What a follow-up on a pull request was asked about; null for jobs started from an issue. */
    followUp: jsonb("follow_up").$type<FollowUp>(),
    /** Messages written on the thread for this job while it ran, oldest first (written under the row's lock). */
    messages: jsonb("messages").$type<JobMessage[]>().notNull().default([]),
    /** The pipeline run this job is a step of (with `pipelineName` and `pipelineStep`); null for a job of its own. */
    pipelineRunId: uuid("pipeline_run_id"),
    /** The run's pipeline, as `.github/agent.yml` names it (the step's `issueTitle` shows `<pipeline>/<step>`). */
    pipelineName: text("pipeline_name"),
    pipelineStep: text("pipeline_step"),
    /**
     * The status last shown where the job's progress goes (its check run and comment). An
     * ended job whose final state did not get there (GitHub failed) is shown again by the
     * minute's sweep.
     */
    shownStatus: text("shown_status").$type<JobStatus>(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index("jobs_created_at_idx").on(table.createdAt),
    index("jobs_thread_idx").on(table.repoId, table.issueNumber),
    index("jobs_status_idx").on(table.status),
    index("jobs_pipeline_run_idx").on(table.pipelineRunId),
  ],
);

export type Job = typeof jobs.$inferSelect;
export type NewJob = typeof jobs.$inferInsert;
