import { buildOpencodeConfig } from "../agent/opencode-config.ts";
import { startOpencodeServer } from "../agent/opencode-server.ts";
import { buildTaskPrompt } from "../agent/prompts.ts";
import { runPrompt } from "../agent/run-prompt.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { ProjectInfo } from "../verify/detect-project.ts";
import { JobError } from "./errors.ts";
import type { JobRun } from "./job-run.ts";

/**
 * The build agent: opencode serves the workspace for as long as the agent works and is
 * stopped before anything else runs, so nothing the worker does later (push with a
 * token) happens while an agent process is alive. Returns the agent's summary.
 */
export async function runBuildAgent(run: JobRun, sandbox: Sandbox, project: ProjectInfo, signal: AbortSignal): Promise<string> {
  const { settings } = run.deps;
  const server = await startOpencodeServer(sandbox, { config: buildOpencodeConfig({ models: settings.models, extra: settings.opencodeExtraConfig }) });
  try {
    const job = run.job;
    const result = await runPrompt(server, {
      agent: "build",
      model: settings.models.build,
      text: buildTaskPrompt({ repository: `${job.repoOwner}/${job.repoName}`, issueNumber: job.issueNumber, issueTitle: job.issueTitle, task: job.task, requester: job.requesterLogin, project }),
      title: `#${job.issueNumber} ${job.issueTitle}`.slice(0, 100),
      deadlineMs: run.remainingMs(),
      signal,
    }).catch((error: unknown) => {
      // opencode has already retried the provider with backoff (5 times, over about a
      // minute); running the whole job again on top of that would only multiply the wait.
      if (error instanceof JobError && error.kind === "model") throw new JobError("model", `${error.message} (after the agent's own retries)`, { cause: error });
      throw error;
    });
    await run.record({
      iterations: job.iterations + 1,
      totalCost: job.totalCost + result.cost,
      totalTokensIn: job.totalTokensIn + result.tokensIn,
      totalTokensOut: job.totalTokensOut + result.tokensOut,
    });
    await run.event("agent", "the build agent finished", { summary: result.text, toolCalls: result.toolCalls, cost: result.cost });
    if (run.job.totalCost > settings.maxCostUsd) {
      throw new JobError("budget", `the job cost $${run.job.totalCost.toFixed(4)}, over its budget of $${settings.maxCostUsd}`);
    }
    return result.text;
  } finally {
    await server.stop();
  }
}
