CREATE TABLE "agent_pull_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"installation_id" bigint NOT NULL,
	"repo_id" bigint NOT NULL,
	"repo_owner" text NOT NULL,
	"repo_name" text NOT NULL,
	"number" integer NOT NULL,
	"url" text NOT NULL,
	"job_id" uuid,
	"pipeline_run_id" uuid,
	"requested_at" timestamp with time zone NOT NULL,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_by" text,
	"human_pushes" integer DEFAULT 0 NOT NULL,
	"last_human_push_sha" text,
	CONSTRAINT "agent_pull_requests_repo_number" UNIQUE("repo_id","number")
);
--> statement-breakpoint
CREATE INDEX "agent_pull_requests_opened_at_idx" ON "agent_pull_requests" USING btree ("opened_at");