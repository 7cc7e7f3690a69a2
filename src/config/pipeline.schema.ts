import { z } from "zod";

/** Pipeline and step names: what `/agent run <pipeline>` and `{{steps.<name>…}}` refer to. */
export const SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
const SLUG_RULE = "1 to 63 letters, digits, '-' or '_', starting with a letter or digit";

export const MAX_STEPS = 50;
export const MAX_TASK_LENGTH = 20_000;

export const pipelineNameSchema = z.string().regex(SLUG, `a pipeline name is ${SLUG_RULE}`);
const stepNameSchema = z.string().regex(SLUG, `a step name is ${SLUG_RULE}`);

/** One step: one agent job. */
export const pipelineStepSchema = z
  .object({
    /** Unique in its pipeline; other steps name it in `depends_on` and templates. */
    name: stepNameSchema,
    /** What the agent is asked to do; may use `{{steps.<name>.output.<key>}}` and `{{inputs.<key>}}`. */
    task: z.string().min(1, "a task cannot be empty").max(MAX_TASK_LENGTH, `a task is at most ${MAX_TASK_LENGTH} characters`),
    /** Steps that must finish first (succeeded, or failed with `on_failure: continue`). */
    depends_on: z.array(stepNameSchema).optional(),
    /** What a failure of this step does to the steps after it: `stop` cancels them. */
    on_failure: z.enum(["stop", "continue"]).default("stop"),
  })
  .strict();

/**
 * A pipeline as declared under `pipelines.<name>` in `.github/agent.yml` or posted to the
 * REST API. The schema checks each field; the graph rules (unique names, known
 * dependencies, no cycles, templates naming upstream steps) are `validatePipeline`'s.
 */
export const pipelineSchema = z
  .object({
    /** Shown in `/agent help` and the dashboard. */
    description: z.string().optional(),
    /** Run in DAG order, not in the order written. */
    steps: z
      .array(pipelineStepSchema)
      .min(1, "a pipeline needs at least one step")
      .max(MAX_STEPS, `a pipeline has at most ${MAX_STEPS} steps`),
  })
  .strict();

/** A parsed pipeline (`on_failure` filled in). */
export type Pipeline = z.output<typeof pipelineSchema>;
/**
 * What the pure functions take: a parsed pipeline, or one written as a literal (in a test,
 * say) where `on_failure` may be left out and means `stop`.
 */
export type PipelineDefinition = z.input<typeof pipelineSchema>;
export type PipelineStepDefinition = z.input<typeof pipelineStepSchema>;
