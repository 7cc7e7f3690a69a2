import { bigint, index, integer, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";

/** What became of a pull request the agent opened: still open, merged, or closed without merging. */
export const PULL_REQUEST_STATES = ["open", "merged", "closed"] as const;
export type PullRequestState = (typeof PULL_REQUEST_STATES)[number];

/**
 * Every pull request the agent opened, and what happened to it: the product's headline
 * number is the share of them that get merged. Written when the pull request is opened
 * (a job's, or a pipeline run's), updated from GitHub's `pull_request` events.
 */
export const agentPullRequests = pgTable(
  "agent_pull_requests",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    repoId: bigint("repo_id", { mode: "number" }).notNull(),
    repoOwner: text("repo_owner").notNull(),
    repoName: text("repo_name").notNull(),
    number: integer("number").notNull(),
    url: text("url").notNull(),
    /** The job that opened it; null for a pipeline run's. */
    jobId: uuid("job_id"),
    /** The pipeline run that opened it; null for a job's. */
    pipelineRunId: uuid("pipeline_run_id"),
    /** When it was asked for (the `/agent` comment, the label, the API call): time to merge counts from here. */
    requestedAt: timestamp("requested_at", { withTimezone: true }).notNull(),
    openedAt: timestamp("opened_at", { withTimezone: true }).notNull().defaultNow(),
    state: text("state").$type<PullRequestState>().notNull().default("open"),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    /** Who merged or closed it (a GitHub login). */
    closedBy: text("closed_by"),
    /** Pushes to its branch by anyone but the app. */
    humanPushes: integer("human_pushes").notNull().default(0),
    /** The head of the last such push: a redelivered event is not counted twice. */
    lastHumanPushSha: text("last_human_push_sha"),
    /** The commit the agent last pushed: CI failing on it is the agent's to fix; on any other head, it is not. */
    agentHeadSha: text("agent_head_sha"),
    /** The last of the agent's commits CI failed on (a CI round's fix that failed again, whether or not another round started). */
    lastCiFailureSha: text("last_ci_failure_sha"),
    /** `/agent cancel` on the pull request: no more automatic CI rounds. */
    ciStoppedAt: timestamp("ci_stopped_at", { withTimezone: true }),
  },
  (table) => [unique("agent_pull_requests_repo_number").on(table.repoId, table.number), index("agent_pull_requests_opened_at_idx").on(table.openedAt)],
);

export type AgentPullRequest = typeof agentPullRequests.$inferSelect;

