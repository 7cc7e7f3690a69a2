-- Custom SQL migration file, put your code below! --
-- Steps made before jobs.pipeline_name had their pipeline only in the title, as <pipeline>/<step>.
UPDATE "jobs" SET "pipeline_name" = left("issue_title", length("issue_title") - length("pipeline_step") - 1) WHERE "pipeline_step" IS NOT NULL AND "pipeline_name" IS NULL AND right("issue_title", length("pipeline_step") + 1) = '/' || "pipeline_step";
