import type { JsonObject } from "../agent/deep-merge.ts";
import { bindGatewayToken, issueGatewayToken, revokeGatewayTokens } from "../gateway/gateway-tokens.ts";
import { JobError } from "../job-error.ts";
import { checkBudget } from "../budget.ts";
import type { JobRun } from "./job-run.ts";
import type { WarmAgent } from "./warm-agents.ts";

/** The gateway as a worker sees it: where sandboxes reach it, and each provider's version segment. */
export interface GatewaySettings {
  url: string;
  providers: Record<string, { version: string }>;
}

/**
 * A job's way to the models when the gateway is on: a token that is good for this job's
 * remaining budget and time (redacted from everything the job writes). Null when the
 * gateway is off. `gatewayProviders` makes the opencode settings that use it.
 */
export async function grantGatewayToken(run: JobRun, warm?: Pick<WarmAgent, "gatewayToken">): Promise<string | null> {
  if (!run.deps.settings.gateway) return null;
  const job = run.job;
  const { remainingUsd } = checkBudget({ spentUsd: job.totalCost - job.costBaseline, limitUsd: run.deps.settings.maxCostUsd });
  const grant = { jobId: job.id, budgetUsd: remainingUsd, ttlMs: run.remainingMs() + 60_000 };
  // A warm agent's server holds a token of no job already: it becomes this job's.
  const spare = warm?.gatewayToken;
  if (spare) {
    run.addSecret(spare.token);
    if (!(await bindGatewayToken(run.deps.db, spare.tokenHash, grant))) {
      throw new JobError("agent", "the warm agent's gateway token could not be made the job's (revoked or expired)", { retryable: true });
    }
    return spare.token;
  }
  const issued = await issueGatewayToken(run.deps.db, grant);
  run.addSecret(issued.token);
  return issued.token;
}

/**
 * The opencode provider settings that send `apiKey` to the gateway, merged over the
 * operator's AGENT_OPENCODE_CONFIG so that no real key is left in the sandbox's config.
 */
export function gatewayProviders(gateway: GatewaySettings, apiKey: string): JsonObject {
  const base = gateway.url.replace(/\/+$/, "");
  const provider = Object.fromEntries(
    Object.entries(gateway.providers).map(([name, { version }]) => [name, { options: { baseURL: `${base}/gateway/${name}/${version}`, apiKey } }]),
  );
  return { provider };
}

/** The job's tokens stop working: called when its agent stops, and again when the job ends. */
export async function revokeGatewayAccess(run: JobRun): Promise<void> {
  if (!run.deps.settings.gateway) return;
  await revokeGatewayTokens(run.deps.db, run.job.id);
}
