ALTER TABLE "jobs" ADD COLUMN "pipeline_run_id" uuid;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "pipeline_step" text;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "requester_id" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "clone_url" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "default_branch" text DEFAULT 'main' NOT NULL;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "branch" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "comment_id" bigint;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "pr_url" text;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "pr_number" integer;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "cancel_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "cancel_requested_by" text;--> statement-breakpoint
CREATE INDEX "jobs_pipeline_run_idx" ON "jobs" USING btree ("pipeline_run_id");