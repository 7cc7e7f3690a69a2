import type { OpencodeServer } from "../agent/opencode-server.ts";
import { renderPlanMarkdown } from "../agent/plan.ts";
import { buildPrompt, debugPrompt, fixPrompt } from "../agent/prompts.ts";
import { diffAgainst } from "../sandbox/git-workspace.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { ProjectInfo } from "../verify/detect-project.ts";
import { isRepeatedFailure } from "../verify/error-similarity.ts";
import { extractErrors } from "../verify/extract-errors.ts";
import { judgeChecks, runChecks, type Check, type CheckName, type Verification } from "../verify/run-checks.ts";
import { withCheckpoint, type BuildState, type StoredPlan } from "./checkpoint.ts";
import type { JobRun } from "./job-run.ts";
import { promptWithinLimits } from "./prompt-within-limits.ts";
import { carryReports, reportingReminder } from "./follow-up-task.ts";
import { taskContextOf } from "./explore-and-plan.ts";

/** Token budget of the errors fed back to the agent each round. */
const ERROR_TOKENS = 3_000;
/** Saved work larger than this is not kept in the checkpoint (a resumed job rebuilds instead). */
const MAX_PATCH_BYTES = 5 * 1024 * 1024;

export interface BuildInput {
  sandbox: Sandbox;
  server: OpencodeServer;
  project: ProjectInfo;
  checks: Check[];
  failingAtBaseline: ReadonlySet<CheckName>;
  plan: StoredPlan;
  report: string;
  signal: AbortSignal;
  /** The session of the earlier job on this pull request, when its sandbox was resumed: the agent remembers that work. */
  continueSession?: string;
}

/**
 * Build, then verify, until the checks pass or the rounds run out. Each failed round's
 * errors go back to the same agent session; when two consecutive failures are alike,
 * the next round is in debug mode (root-cause analysis with the error history).
 * Every round ends with a checkpoint holding the work as a patch.
 */
export async function buildUntilGreen(run: JobRun, input: BuildInput, resumed: BuildState | undefined): Promise<BuildState> {
  const { maxIterations, debugSimilarity } = run.deps.settings;
  let state: BuildState = resumed ?? { iteration: 0, patch: null, summary: "", errorHistory: [], debugMode: false, verification: null };
  let sessionId = input.continueSession;
  // A continued session has seen the earlier job's task, not this one: it gets the full prompt first.
  let ownSession = false;
  while (!state.verification?.passed && state.iteration < maxIterations) {
    const iteration = state.iteration + 1;
    const text = roundPrompt(run, input, state, iteration, !ownSession);
    const reply = await run.step("build", () =>
      promptWithinLimits(run, input.server, { phase: "build", agent: "build", model: run.deps.settings.models.build, text, signal: input.signal, ...(sessionId ? { sessionId } : {}) }),
    );
    sessionId = reply.sessionId;
    ownSession = true;
    const verification = await run.step("verify", () => verify(run, input));
    const errors = verification.passed ? null : extractErrors(failedOutput(verification), { maxTokens: ERROR_TOKENS }).text;
    const errorHistory = errors === null ? state.errorHistory : [...state.errorHistory, errors];
    const debugMode = state.debugMode || isRepeatedFailure(errorHistory, debugSimilarity);
    if (debugMode && !state.debugMode) await run.event("debug_mode", "the same failure came back: switching to debug mode (root-cause analysis)");
    const patch = await diffAgainst(input.sandbox, run.job.baseSha!);
    state = {
      iteration,
      patch: Buffer.byteLength(patch) <= MAX_PATCH_BYTES ? patch : null,
      summary: carryReports(state.summary, reply.text.trim() || state.summary, run.job.followUp?.reviewTargets.length ?? 0),
      errorHistory,
      debugMode,
      verification: { passed: verification.passed, testsPassed: verification.testsPassed, summary: failedOutput(verification) },
      sessionId,
    };
    await run.record({ iterations: iteration, debugMode, testsPassed: verification.testsPassed, checkpoint: withCheckpoint(run.job, "build", state) });
    await run.event("round", `round ${iteration}: checks ${verification.passed ? "passed" : "failed"}`, { errors });
  }
  return state;
}

/** The first round gets the plan; later rounds the errors. A fresh session (a resumed job) gets both. */
function roundPrompt(run: JobRun, input: BuildInput, state: BuildState, iteration: number, freshSession: boolean): string {
  const { maxIterations } = run.deps.settings;
  const start = buildPrompt(taskContextOf(run), { planMarkdown: renderPlanMarkdown(input.plan), report: input.report, project: input.project });
  const lastErrors = state.errorHistory.at(-1);
  if (lastErrors === undefined) return start;
  const feedback =
    (state.debugMode
      ? debugPrompt({ iteration, maxIterations, errors: lastErrors, history: state.errorHistory.slice(0, -1) })
      : fixPrompt({ iteration, maxIterations, errors: lastErrors })) + reportingReminder(run.job.followUp?.reviewTargets.length ?? 0);
  return freshSession ? `${start}\n\nYour earlier work on this task is already in the checkout.\n\n${feedback}` : feedback;
}

async function verify(run: JobRun, input: BuildInput): Promise<Verification> {
  const results = await runChecks(input.sandbox, input.checks, () => run.remainingMs());
  const verification = judgeChecks(results, input.failingAtBaseline);
  for (const result of results) await run.event("check", `${result.name}: ${result.passed ? "passed" : "failed"}`, { output: result.output });
  return verification;
}

function failedOutput(verification: Verification): string {
  return verification.results
    .filter((result) => !result.passed)
    .map((result) => result.output)
    .join("\n\n");
}
