import type { Config } from "../config/load-config.ts";
import { AGENT_JOB_RETRY_LIMIT } from "../queue/boss.ts";
import type { WorkerSettings } from "./run-job.ts";

/** The settings of the agent loop itself, the same wherever a job runs (a worker, `running-agent run`). */
export type LoopSettings = Pick<WorkerSettings, "models" | "opencodeExtraConfig" | "maxCostUsd" | "maxIterations" | "debugSimilarity" | "timeoutMs" | "limits" | "maxAttempts">;

export function loopSettingsOf(config: Config): LoopSettings {
  const env = config.env;
  const timeoutMs = env.AGENT_TIMEOUT_MINUTES * 60_000;
  return {
    models: { explore: env.AGENT_MODEL_EXPLORE, plan: env.AGENT_MODEL_PLAN, build: env.AGENT_MODEL_BUILD },
    opencodeExtraConfig: config.opencodeExtraConfig,
    maxCostUsd: env.AGENT_MAX_COST_USD,
    maxIterations: env.AGENT_MAX_ITERATIONS,
    debugSimilarity: env.AGENT_DEBUG_SIMILARITY,
    timeoutMs,
    // The sandbox outlives the job's own limit by a minute: the job ends itself cleanly first.
    limits: { timeoutMs: timeoutMs + 60_000, memoryMb: env.SANDBOX_MEMORY_MB, cpuSeconds: env.SANDBOX_CPU_SECONDS },
    // Attempts, the first included, before a transient failure becomes final: as many as the
    // queue's retries (AGENT_JOB_RETRY_LIMIT), so one retry is always left for a worker that dies.
    maxAttempts: AGENT_JOB_RETRY_LIMIT,
  };
}
