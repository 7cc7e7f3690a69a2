import { pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { jobs } from "./jobs.sql.ts";

/**
 * One row per `X-GitHub-Delivery` that reached a decision. The primary key is what makes
 * a delivery processed once, even when GitHub (or the reaper) redelivers it; the unique
 * `trigger_key` is what makes the comment, label event or review it carries acted on once,
 * even when its signed body comes again under another delivery id (a replay).
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    deliveryId: text("delivery_id").primaryKey(),
    event: text("event").notNull(),
    action: text("action"),
    outcome: text("outcome").notNull(),
    jobId: uuid("job_id").references(() => jobs.id, { onDelete: "set null" }),
    /** What the delivery is about (`issue_comment.created:<comment id>`…, see `triggerKeyOf`); null for events acted on by state alone. */
    triggerKey: text("trigger_key"),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("webhook_deliveries_trigger_key_idx").on(table.triggerKey)],
);
