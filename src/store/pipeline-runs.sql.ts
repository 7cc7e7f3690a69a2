import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import type { Pipeline } from "../config/pipeline.schema.ts";

export const STEP_STATES = ["pending", "running", "completed", "failed", "cancelled", "skipped"] as const;
/**
 * A step's state in a run. `skipped` means the step ended without running for a reason
 * that is not a failure (say, a re-run reusing an earlier run's result): it satisfies the
 * steps after it like `completed`. Steps stopped by a failure or by the user are `cancelled`.
 */
export type StepState = (typeof STEP_STATES)[number];
export type RunStatus = "running" | "completed" | "failed" | "cancelled";

/** One step of a run as it stands: its state, the job that runs it, what it returned. */
export interface RunStep {
  state: StepState;
  jobId?: string;
  /** The JSON object the step's agent ended with, for `{{steps.<name>.output.<key>}}`. */
  output?: Record<string, unknown>;
  /** Why it failed before any job ran (a template naming an output that is not there). */
  error?: string;
}

/** A run of a pipeline: the definition as it was when the run started, its inputs, and each step. */
export const pipelineRuns = pgTable(
  "pipeline_runs",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    repoId: bigint("repo_id", { mode: "number" }).notNull(),
    repoOwner: text("repo_owner").notNull(),
    repoName: text("repo_name").notNull(),
    /** The issue or pull request it was started from; null for the REST API. */
    issueNumber: integer("issue_number"),
    pipelineName: text("pipeline_name").notNull(),
    definition: jsonb("definition").$type<Pipeline>().notNull(),
    inputs: jsonb("inputs").$type<Record<string, string>>().notNull().default({}),
    status: text("status").$type<RunStatus>().notNull().default("running"),
    steps: jsonb("steps").$type<Record<string, RunStep>>().notNull().default({}),
    requesterLogin: text("requester_login").notNull(),
    requesterId: bigint("requester_id", { mode: "number" }).notNull().default(0),
    cloneUrl: text("clone_url").notNull().default(""),
    defaultBranch: text("default_branch").notNull().default("main"),
    /** The branch every step pushes to, in turn; the run's one pull request is opened from it. */
    branch: text("branch").notNull().default(""),
    /** The run's progress comment on its issue or pull request (the DAG as a checklist). */
    commentId: bigint("comment_id", { mode: "number" }),
    prUrl: text("pr_url"),
    prNumber: integer("pr_number"),
    /** Set by a cancel: no step starts after it. */
    cancelRequestedAt: timestamp("cancel_requested_at", { withTimezone: true }),
    cancelRequestedBy: text("cancel_requested_by"),
    /**
     * The status GitHub was last shown (the comment, and the pull request once over). Differs
     * from `status` while showing it is pending or failed: the minute's sweep shows it again.
     */
    shownStatus: text("shown_status").$type<RunStatus>(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (table) => [index("pipeline_runs_repo_idx").on(table.repoId, table.createdAt)],
);

export type PipelineRun = typeof pipelineRuns.$inferSelect;
export type NewPipelineRun = typeof pipelineRuns.$inferInsert;
