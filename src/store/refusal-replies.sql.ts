import { bigint, integer, pgTable, primaryKey, timestamp } from "drizzle-orm/pg-core";

/**
 * Who has been told, on which thread, that they may not start the agent. The reply is
 * said once per person per thread, whatever the number of `/agent` comments (or web
 * processes): the primary key decides, not a process's memory.
 */
export const refusalReplies = pgTable(
  "refusal_replies",
  {
    repoId: bigint("repo_id", { mode: "number" }).notNull(),
    issueNumber: integer("issue_number").notNull(),
    /** GitHub's user id: a renamed account is still the same person. */
    userId: bigint("user_id", { mode: "number" }).notNull(),
    repliedAt: timestamp("replied_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.repoId, table.issueNumber, table.userId] })],
);
