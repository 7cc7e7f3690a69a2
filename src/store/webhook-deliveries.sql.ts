import { pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { jobs } from "./jobs.sql.ts";

/**
 * One row per `X-GitHub-Delivery` that reached a decision. The primary key is what makes
 * a delivery processed once, even when GitHub (or the reaper) redelivers it.
 */
export const webhookDeliveries = pgTable("webhook_deliveries", {
  deliveryId: text("delivery_id").primaryKey(),
  event: text("event").notNull(),
  action: text("action"),
  outcome: text("outcome").notNull(),
  jobId: uuid("job_id").references(() => jobs.id, { onDelete: "set null" }),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
});
