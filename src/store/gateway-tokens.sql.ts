import { bigint, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { jobs } from "./jobs.sql.ts";

/**
 * Credentials the model gateway accepts from a job's sandbox, in place of the real model
 * API key. Only the token's SHA-256 is kept: a database dump must not hand out working
 * tokens. Money is in integer micro-dollars (see `src/budget.ts`), so that the
 * gateway's concurrent charges add up exactly. A request in flight holds its worst case in
 * `reserved_micro_usd` until it settles to its usage, so that `spent + reserved` never
 * passes the budget however many requests run at once.
 */
export const gatewayTokens = pgTable(
  "gateway_tokens",
  {
    /** Hex SHA-256 of the token; the token itself is never stored. */
    tokenHash: text("token_hash").primaryKey(),
    /** Null until a job binds it (a warm agent's token): refused by the gateway meanwhile. */
    jobId: uuid("job_id").references(() => jobs.id, { onDelete: "cascade" }),
    budgetMicroUsd: bigint("budget_micro_usd", { mode: "number" }).notNull(),
    spentMicroUsd: bigint("spent_micro_usd", { mode: "number" }).notNull().default(0),
    /** The worst cases of the requests in flight: reserved before forwarding, released when each settles. */
    reservedMicroUsd: bigint("reserved_micro_usd", { mode: "number" }).notNull().default(0),
    tokensIn: integer("tokens_in").notNull().default(0),
    tokensOut: integer("tokens_out").notNull().default(0),
    /** Model requests forwarded (and charged) with this token. */
    requests: integer("requests").notNull().default(0),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("gateway_tokens_job_idx").on(table.jobId)],
);

export type GatewayToken = typeof gatewayTokens.$inferSelect;
