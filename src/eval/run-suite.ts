/**
 * Running an eval suite on one local engine: each task gets a fresh repository of its
 * own, the agent's job, then its check on a clean checkout of what the job left. A task
 * whose job could not run at all (the engine threw) is that task's failure, with
 * `jobStatus: "error"`, never the suite's.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { JobReporter } from "../jobs/job-host.ts";
import type { LocalEngine, LocalRunResult } from "../local/run-local.ts";
import { gradeTask, materializeRepository } from "./task-workspace.ts";
import { taskResultOf, type EvalTaskResult } from "./report.ts";
import type { EvalTask } from "./suite.ts";

/** What running a task needs of the engine: one engine runs every task of a suite. */
export type EvalEngine = Pick<LocalEngine, "run">;

export interface RunSuiteOptions {
  /** Tasks run at once (at least 1). */
  concurrency: number;
  /** Aborting cancels the running jobs and starts no more tasks; those never started are left out of the results. */
  signal?: AbortSignal;
  onTaskStart?: (task: EvalTask) => void;
  onTaskDone?: (result: EvalTaskResult, task: EvalTask) => void;
}

/** The JSON status of a task whose job never ran: the engine threw (a bad repository, the database gone). */
export const NOT_RUN_STATUS = "error";

/** Every task's result, in the tasks' order, `concurrency` at a time. */
export async function runSuite(engine: EvalEngine, tasks: readonly EvalTask[], options: RunSuiteOptions): Promise<EvalTaskResult[]> {
  const results: Array<EvalTaskResult | undefined> = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length && !options.signal?.aborted) {
      const index = next++;
      const task = tasks[index]!;
      options.onTaskStart?.(task);
      const result = await runEvalTask(engine, task, { signal: options.signal });
      results[index] = result;
      options.onTaskDone?.(result, task);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, tasks.length)) }, worker));
  return results.filter((result) => result !== undefined);
}

/**
 * One task: its repository in a temp dir, the job on it, the check on the job's branch
 * (or on the base when nothing was pushed). Never throws for the task's own failures.
 */
export async function runEvalTask(engine: EvalEngine, task: EvalTask, options: { signal?: AbortSignal | undefined } = {}): Promise<EvalTaskResult> {
  const startedAt = Date.now();
  const work = await mkdtemp(path.join(os.tmpdir(), `ra-eval-${task.id}-`));
  // `timeoutSeconds` bounds the job; the engine's own limit (AGENT_TIMEOUT_MINUTES) still applies when it is longer.
  const deadline = task.timeoutSeconds === null ? null : AbortSignal.timeout(task.timeoutSeconds * 1000);
  const signals = [options.signal, deadline].filter((signal) => signal !== undefined && signal !== null);
  try {
    let run: LocalRunResult;
    try {
      const repo = await materializeRepository(task, path.join(work, "repo"));
      run = await engine.run({ repo, task: task.task }, { progress: QUIET_PROGRESS, ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}) });
    } catch (error) {
      return notRunResult(task, error, Date.now() - startedAt);
    }
    const ref = run.branch ?? run.job.baseSha ?? "HEAD";
    const check = await gradeTask(task, path.join(work, "repo"), ref, work);
    const result = taskResultOf(task, run.job, check, Date.now() - startedAt);
    // The engine cancels a job whose signal aborts; the report should say why.
    if (deadline?.aborted && run.job.status === "cancelled") return { ...result, jobStatus: "timed_out", failureKind: "timeout" };
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Progress for a task of a suite: nobody watches one job among many, so nothing is kept. */
const QUIET_PROGRESS: JobReporter = { update: () => {}, flush: async () => {}, finish: async () => true };

function notRunResult(task: EvalTask, error: unknown, wallMs: number): EvalTaskResult {
  const message = error instanceof Error ? error.message : String(error);
  return {
    id: task.id,
    title: task.title,
    tags: [...task.tags],
    success: false,
    checkOutput: `the task did not run: ${message}`,
    jobStatus: NOT_RUN_STATUS,
    failureKind: "internal",
    iterations: 0,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    wallMs: Math.max(0, Math.round(wallMs)),
    phaseMs: {},
    slowestPhase: null,
  };
}
