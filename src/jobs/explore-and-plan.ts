import type { OpencodeServer } from "../agent/opencode-server.ts";
import { parsePlan, PLAN_CORRECTION_PROMPT, PLAN_FORMAT_INSTRUCTIONS, type Plan } from "../agent/plan.ts";
import { explorePrompt, planPrompt, type TaskContext } from "../agent/prompts.ts";
import { mapCommit, type RepoMap } from "../context/repo-map.ts";
import { fitToTokens } from "../context/tokens.ts";
import type { WorkRepository } from "../sandbox/work-repository.ts";
import { readCheckpoint, withCheckpoint } from "./checkpoint.ts";
import { JobError } from "../job-error.ts";
import type { JobRun } from "./job-run.ts";
import { promptWithinLimits } from "./prompt-within-limits.ts";

/** Token budgets of the read-only phases' inputs and outputs. */
const REPO_MAP_TOKENS = 6_000;
const REPORT_TOKENS = 4_000;

/** The explore and plan phases: read-only agents (opencode denies them every edit tool). */
/**
 * The repository map explore starts from, of the commit checked out, made on the worker
 * from the job's work repository: started as soon as the checkout is, it is ready by the
 * time opencode is (src/jobs/run-job.ts).
 */
export function mapForExplore(run: JobRun, repository: WorkRepository, commit: string): Promise<RepoMap> {
  return mapCommit(repository.gitDir, commit, { maxTokens: REPO_MAP_TOKENS, focus: focusWords(run.job.task, run.job.issueTitle, readCheckpoint(run.job).issue?.context ?? "") });
}

export async function explore(run: JobRun, mapping: Promise<RepoMap>, server: OpencodeServer, signal: AbortSignal): Promise<string> {
  const map = await mapping;
  await run.event("repo_map", `repository map: ${map.filesListed} of ${map.filesTotal} files, ~${map.tokens} tokens`, { truncated: map.truncated });
  const result = await promptWithinLimits(run, server, {
    phase: "explore",
    agent: "explore",
    model: run.deps.settings.models.explore,
    text: explorePrompt(taskContextOf(run), map.text),
    signal,
  });
  const report = fitToTokens(result.text.trim(), REPORT_TOKENS);
  if (report === "") throw new JobError("agent", "the explore agent returned an empty report", { retryable: true });
  await run.record({ explorationReportGenerated: true, checkpoint: withCheckpoint(run.job, "explore", { report }) });
  await run.event("explore", "exploration report ready", { report });
  return report;
}

/** Ask for a plan; an answer with no steps gets one corrective re-prompt in the same session. */
export async function plan(run: JobRun, server: OpencodeServer, report: string, signal: AbortSignal): Promise<Plan> {
  const ask = { phase: "plan" as const, agent: "plan" as const, model: run.deps.settings.models.plan, signal };
  const first = await promptWithinLimits(run, server, { ...ask, text: planPrompt(taskContextOf(run), report, PLAN_FORMAT_INSTRUCTIONS) });
  let parsed = parsePlan(first.text);
  if (!parsed) {
    await run.event("plan", "the plan had no steps; asking once more for the expected format");
    const second = await promptWithinLimits(run, server, { ...ask, text: PLAN_CORRECTION_PROMPT, sessionId: first.sessionId });
    parsed = parsePlan(second.text);
  }
  if (!parsed) throw new JobError("agent", "the plan agent did not produce a plan with steps, even when asked again", { nextStep: "Rephrase the task more concretely, then comment `/agent <task>` again." });
  await run.record({ checkpoint: withCheckpoint(run.job, "plan", parsed) });
  await run.event("plan", `plan ready: ${parsed.steps.length} step(s)`, { plan: parsed });
  return parsed;
}

export function taskContextOf(run: JobRun): TaskContext {
  const job = run.job;
  const saved = readCheckpoint(job);
  const followUp = saved.followUp?.task;
  const issueContext = saved.issue?.context;
  return {
    repository: `${job.repoOwner}/${job.repoName}`,
    issueNumber: job.issueNumber,
    issueTitle: job.issueTitle,
    task: job.task,
    requester: job.requesterLogin,
    ...(followUp === undefined ? {} : { followUp }),
    ...(issueContext ? { issueContext } : {}),
    ...(job.pipelineStep === null ? {} : { pipelineStep: { pipeline: job.pipelineName ?? "", step: job.pipelineStep } }),
  };
}

/** Words from the task that may name files or symbols, to rank the repository map. */
function focusWords(...texts: string[]): string[] {
  const words = texts.join(" ").match(/[A-Za-z_][A-Za-z0-9_.-]{2,}/g) ?? [];
  return [...new Set(words.map((word) => word.toLowerCase()))].slice(0, 50);
}
