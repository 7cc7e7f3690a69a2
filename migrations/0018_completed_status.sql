-- Custom SQL migration file, put your code below! --
-- The status vocabulary of the original HTTP interface: a job, a run or a step that delivered its work is `completed`, no longer `succeeded`.
UPDATE "jobs" SET "status" = 'completed' WHERE "status" = 'succeeded';
--> statement-breakpoint
UPDATE "jobs" SET "shown_status" = 'completed' WHERE "shown_status" = 'succeeded';
--> statement-breakpoint
UPDATE "pipeline_runs" SET "status" = 'completed' WHERE "status" = 'succeeded';
--> statement-breakpoint
UPDATE "pipeline_runs" SET "shown_status" = 'completed' WHERE "shown_status" = 'succeeded';
--> statement-breakpoint
UPDATE "pipeline_runs" SET "steps" = (
  SELECT jsonb_object_agg("name", CASE WHEN "step"->>'state' = 'succeeded' THEN jsonb_set("step", '{state}', '"completed"') ELSE "step" END)
  FROM jsonb_each("steps") AS "each"("name", "step")
) WHERE "steps" <> '{}'::jsonb AND jsonb_path_exists("steps", '$.*.state ? (@ == "succeeded")');
