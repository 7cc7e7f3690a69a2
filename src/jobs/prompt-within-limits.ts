import type { OpencodeServer } from "../agent/opencode-server.ts";
import { runPrompt, type PromptResult } from "../agent/run-prompt.ts";
import type { PromptProgress } from "../agent/session-events.ts";
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
        if (progress.kind !== "usage") return logActivity(run, prompt.phase, progress);
        seen = { cost: progress.cost, tokensIn: progress.tokensIn, tokensOut: progress.tokensOut };
        if (checkBudget({ spentUsd: spentBefore + progress.cost, limitUsd: maxCostUsd }).exceeded) overBudget.abort();
      },
    });
  } catch (error) {
    await activityWrites.get(run);
    // The aborted prompt's usage so far still counts.
    await recordUsage(run, prompt.phase, seen);
    if (overBudget.signal.aborted && !prompt.signal.aborted) throw budgetError(maxCostUsd, error);
    // The model gateway refuses a job's token once its budget is spent (HTTP 402).
    if (error instanceof JobError && error.kind === "model" && /\bHTTP 402\b/.test(error.message)) throw budgetError(maxCostUsd, error);
    // opencode has already retried the provider with backoff (5 times, over about a
    // minute). A provider still down or rate-limiting after that (HTTP 429, 5xx, refused
    // connections) is worth another attempt later, from the checkpoint: the queue's backoff
    // waits, and a job outlives an outage of a few minutes instead of failing at the first
    // (found by the fault suite: a two-minute outage failed every job). Anything else is final.
    if (error instanceof JobError && error.kind === "model") throw new JobError("model", `${error.message} (after the agent's own retries)`, { cause: error, retryable: error.retryable });
    throw error;
  }
  // The agent's activity is in the log before anything the job writes after the prompt.
  await activityWrites.get(run);
  await recordUsage(run, prompt.phase, { cost: result.cost, tokensIn: result.tokensIn, tokensOut: result.tokensOut });
  if (checkBudget({ spentUsd: run.job.totalCost - run.job.costBaseline, limitUsd: maxCostUsd }).exceeded) throw budgetError(maxCostUsd);
  return result;
}

/**
 * What the agent does, in the job's log as it happens: each tool call it finished or that
 * failed (files edited, commands run), the model provider's failures it is retrying, and
 * what was refused it. Whoever follows the job sees it work, and why it is slow when the
 * provider fails. Written in order, one after the other; a failed write is only logged.
 */
function logActivity(run: JobRun, phase: string, progress: Exclude<PromptProgress, { kind: "usage" }>): void {
  const line = activityLine(progress);
  if (!line) return;
  const previous = activityWrites.get(run) ?? Promise.resolve();
  const next = previous
    .then(() => run.event(line.kind, line.message, { ...line.data, phase }))
    .catch((error: unknown) => run.log.warn({ err: error }, "recording the agent's activity failed"));
  activityWrites.set(run, next);
}

const activityWrites = new WeakMap<JobRun, Promise<void>>();

function activityLine(progress: Exclude<PromptProgress, { kind: "usage" }>): { kind: string; message: string; data: Record<string, unknown> } | null {
  switch (progress.kind) {
    case "tool":
      if (progress.status === "running") return null;
      return { kind: "tool", message: `${progress.tool}${progress.title ? `: ${oneLine(progress.title)}` : ""}${progress.status === "error" ? " (failed)" : ""}`, data: { tool: progress.tool, title: progress.title ?? null, status: progress.status } };
    case "retry":
      return { kind: "model_retry", message: `the model provider failed (attempt ${progress.attempt}): ${oneLine(progress.message)}; the agent retries`, data: { attempt: progress.attempt } };
    case "rejected":
      return { kind: "rejected", message: `refused the agent ${oneLine(progress.what)}`, data: {} };
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
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
