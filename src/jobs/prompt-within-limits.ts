import type { OpencodeServer } from "../agent/opencode-server.ts";
import { runPrompt, type PromptResult } from "../agent/run-prompt.ts";
import { NO_ISSUE, type PhaseUsage } from "../store/jobs.sql.ts";
import { addPhaseUsage, checkBudget, formatUsd, sumUsage } from "../budget.ts";
import { JobError } from "../job-error.ts";
import type { JobRun } from "./job-run.ts";

export interface AgentPrompt {
  phase: "explore" | "plan" | "build";
  agent: "explore" | "plan" | "build";
  model: string;
  text: string;
  /** Continue this opencode session (the build agent keeps one across rounds). */
  sessionId?: string;
  signal: AbortSignal;
  onSession?: (sessionId: string) => void;
}

/**
 * One prompt with the job's limits around it: the remaining wall-clock time as its
 * deadline, and the cost budget checked at every finished model reply, aborting the
 * session as soon as the job's total passes it. Usage is recorded per phase and in total.
 */
export async function promptWithinLimits(run: JobRun, server: OpencodeServer, prompt: AgentPrompt): Promise<PromptResult> {
  const { maxCostUsd } = run.deps.settings;
  // A retried job gets its budget afresh: what earlier runs spent is the baseline.
  const spentBefore = run.job.totalCost - run.job.costBaseline;
  const overBudget = new AbortController();
  let seen: PhaseUsage = { cost: 0, tokensIn: 0, tokensOut: 0 };
  const signal = AbortSignal.any([prompt.signal, overBudget.signal]);
  let result: PromptResult;
  try {
    result = await runPrompt(server, {
      agent: prompt.agent,
      model: prompt.model,
      text: prompt.text,
      title: `${run.job.issueNumber === NO_ISSUE ? "" : `#${run.job.issueNumber} `}${prompt.phase}: ${run.job.issueTitle}`.slice(0, 100),
      deadlineMs: run.remainingMs(),
      signal,
      ...(prompt.sessionId ? { sessionId: prompt.sessionId } : {}),
      ...(prompt.onSession ? { onSession: prompt.onSession } : {}),
      onProgress: (progress) => {
        if (progress.kind !== "usage") return;
        seen = { cost: progress.cost, tokensIn: progress.tokensIn, tokensOut: progress.tokensOut };
        if (checkBudget({ spentUsd: spentBefore + progress.cost, limitUsd: maxCostUsd }).exceeded) overBudget.abort();
      },
    });
  } catch (error) {
    // The aborted prompt's usage so far still counts.
    await recordUsage(run, prompt.phase, seen);
    if (overBudget.signal.aborted && !prompt.signal.aborted) throw budgetError(maxCostUsd, error);
    // The model gateway refuses a job's token once its budget is spent (HTTP 402).
    if (error instanceof JobError && error.kind === "model" && /\bHTTP 402\b/.test(error.message)) throw budgetError(maxCostUsd, error);
    // opencode has already retried the provider with backoff (5 times, over about a
    // minute); running the whole job again on top of that would only multiply the wait.
    if (error instanceof JobError && error.kind === "model") throw new JobError("model", `${error.message} (after the agent's own retries)`, { cause: error });
    throw error;
  }
  await recordUsage(run, prompt.phase, { cost: result.cost, tokensIn: result.tokensIn, tokensOut: result.tokensOut });
  if (checkBudget({ spentUsd: run.job.totalCost - run.job.costBaseline, limitUsd: maxCostUsd }).exceeded) throw budgetError(maxCostUsd);
  return result;
}

/** The totals are the sum of the phases, in micro-dollars: never two float tallies that drift apart. */
async function recordUsage(run: JobRun, phase: string, usage: PhaseUsage): Promise<void> {
  const usageByPhase = addPhaseUsage(run.job.usageByPhase, phase, usage);
  const total = sumUsage(Object.values(usageByPhase));
  await run.record({ usageByPhase, totalCost: total.cost, totalTokensIn: total.tokensIn, totalTokensOut: total.tokensOut });
}

function budgetError(maxCostUsd: number, cause?: unknown): JobError {
  return new JobError("budget", `the job passed its cost budget of ${formatUsd(maxCostUsd)}; the agent was stopped`, { cause });
}
