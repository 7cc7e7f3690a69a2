import { sql } from "drizzle-orm";
import { jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { Pipeline } from "../config/pipeline.schema.ts";

/** Pipeline definitions stored through the REST API, by repository and name (agent.yml ones live in the repository). */
export const pipelines = pgTable(
  "pipelines",
  {
    id: uuid("id").primaryKey().default(sql`gen_random_uuid()`),
    repoOwner: text("repo_owner").notNull(),
    repoName: text("repo_name").notNull(),
    name: text("name").notNull(),
    definition: jsonb("definition").$type<Pipeline>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("pipelines_repo_name_idx").on(table.repoOwner, table.repoName, table.name)],
);

export type StoredPipeline = typeof pipelines.$inferSelect;
