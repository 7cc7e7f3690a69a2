ALTER TABLE "agent_pull_requests" ADD COLUMN "agent_head_sha" text;--> statement-breakpoint
ALTER TABLE "agent_pull_requests" ADD COLUMN "ci_stopped_at" timestamp with time zone;