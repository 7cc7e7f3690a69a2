import type { EvalTaskResult } from "../../src/eval/report.ts";

/** A task result that succeeded, for pure tests of reports. */
export function evalTaskResult(overrides: Partial<EvalTaskResult> = {}): EvalTaskResult {
  return {
    id: "task",
    title: "A task",
    tags: [],
    success: true,
    checkOutput: "ok\n",
    jobStatus: "completed",
    failureKind: null,
    iterations: 1,
    tokensIn: 1_000,
    tokensOut: 100,
    costUsd: 0.01,
    wallMs: 30_000,
    phaseMs: { build: 20_000 },
    slowestPhase: "build",
    ...overrides,
  };
}
