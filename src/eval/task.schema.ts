import { z } from "zod";

const text = z.string().trim().min(1, "must not be empty");

/** `task.json` of one eval task. Unknown keys are errors: a misspelt `timeoutSecond` must not be silently ignored. */
export const evalTaskFileSchema = z
  .object({
    /** A short name for the report. */
    title: text,
    /** What the agent is asked, as a user would write it. */
    task: text,
    /** A shell command run in the checkout after the job (and after `hidden/` is copied in); exit 0 means success. */
    check: text,
    /** Free labels to group results by (`bugfix`, `typescript`…). */
    tags: z.array(text),
    /** Wall-clock limit of the task's job; the configured job limit when absent. */
    timeoutSeconds: z.number().int().positive().optional(),
  })
  .strict();
