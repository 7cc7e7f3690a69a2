import { z } from "zod";

const count = z.number().int().nonnegative();
const amount = z.number().nonnegative();
const phaseMs = z.record(z.string(), amount);

/** One task's outcome in an eval report. */
export const evalTaskResultSchema = z.object({
  id: z.string().min(1),
  title: z.string(),
  tags: z.array(z.string()),
  /** The task's check command exited 0. */
  success: z.boolean(),
  /** The end of the check's output (at most 2 KB), or why it did not run. */
  checkOutput: z.string(),
  jobStatus: z.string(),
  failureKind: z.string().nullable(),
  iterations: count,
  tokensIn: count,
  tokensOut: count,
  costUsd: amount,
  /** From the task's start to its check's end, in milliseconds. */
  wallMs: amount,
  /** Time spent in each phase of the job (prepare, explore, plan, build, verify, deliver). */
  phaseMs,
  slowestPhase: z.string().nullable(),
});

/**
 * `report.json` of `running-agent eval`, read back by `--compare`. Extra keys are allowed
 * (and dropped), so that a report written by a newer version can still be compared.
 */
export const evalReportSchema = z.object({
  suite: z.string(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  models: z.object({ explore: z.string(), plan: z.string(), build: z.string() }),
  tasks: z.array(evalTaskResultSchema),
  totals: z.object({
    tasks: count,
    succeeded: count,
    /** succeeded / tasks, from 0 to 1 (0 for no tasks). */
    successRate: z.number().min(0).max(1),
    iterations: count,
    tokensIn: count,
    tokensOut: count,
    costUsd: amount,
    /** The tasks' wall times added up: the work, whatever the concurrency (the suite's own time is finishedAt - startedAt). */
    wallMs: amount,
    phaseMs,
  }),
});

export type EvalTaskResult = z.infer<typeof evalTaskResultSchema>;
export type EvalReport = z.infer<typeof evalReportSchema>;
