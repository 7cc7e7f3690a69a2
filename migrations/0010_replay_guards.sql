CREATE TABLE "refusal_replies" (
	"repo_id" bigint NOT NULL,
	"issue_number" integer NOT NULL,
	"user_id" bigint NOT NULL,
	"replied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refusal_replies_repo_id_issue_number_user_id_pk" PRIMARY KEY("repo_id","issue_number","user_id")
);
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "trigger_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_trigger_key_idx" ON "webhook_deliveries" USING btree ("trigger_key");