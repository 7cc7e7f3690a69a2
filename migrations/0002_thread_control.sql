ALTER TABLE "jobs" ADD COLUMN "base_branch" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "cancel_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "cancel_requested_by" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "cost_baseline" double precision DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "follow_up" jsonb;