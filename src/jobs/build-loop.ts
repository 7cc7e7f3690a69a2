import type { OpencodeServer } from "../agent/opencode-server.ts";
import { renderPlanMarkdown } from "../agent/plan.ts";
import { buildPrompt, debugPrompt, fixPrompt, threadMessagesPrompt } from "../agent/prompts.ts";
import { awaitsReply, tellRunningAgent, type PromptResult } from "../agent/run-prompt.ts";
import { diffAgainst } from "../sandbox/git-workspace.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { ProjectInfo } from "../verify/detect-project.ts";
import { isRepeatedFailure } from "../verify/error-similarity.ts";
import { extractErrors } from "../verify/extract-errors.ts";
import { judgeChecks, runChecks, type Check, type CheckName, type Verification } from "../verify/run-checks.ts";
import { withCheckpoint, type BuildState, type StoredPlan } from "./checkpoint.ts";
import type { JobRun } from "./job-run.ts";
import { promptWithinLimits } from "./prompt-within-limits.ts";
import { hasWaitingMessages, takeMessages } from "./job-messages.ts";
import type { JobMessage } from "../store/jobs.sql.ts";
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
  // A message written on the thread during the last verification is worth another round, even when the checks passed.
  while ((!state.verification?.passed || (await hasWaitingMessages(run.deps.db, run.job.id))) && state.iteration < maxIterations) {
    const iteration = state.iteration + 1;
    const taken = await takeMessagesFor(run);
    // A fresh session (a new attempt, or an earlier job's) has read none of the job's messages; its own has read all but the new.
    const messages = ownSession ? taken : run.job.messages.filter((message) => message.outcome === "delivered");
    const text = [roundPrompt(run, input, state, iteration, !ownSession), messages.length > 0 ? threadMessagesPrompt(messages) : ""].filter((part) => part !== "").join("\n\n");
    const reply = await run.step("build", () => promptTakingMessages(run, input, { text, ...(sessionId ? { sessionId } : {}) }));
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

/**
 * One build prompt, with the thread's new messages told to the agent while it works (polled
 * every second): it reads them before its next step. One it could not be told, or one that
 * reached it as it finished, gets a prompt of its own in the same session.
 */
async function promptTakingMessages(run: JobRun, input: BuildInput, prompt: { text: string; sessionId?: string }): Promise<PromptResult> {
  const model = run.deps.settings.models.build;
  const ask = (text: string, sessionId: string | undefined, onSession?: (id: string) => void) =>
    promptWithinLimits(run, input.server, { phase: "build", agent: "build", model, text, signal: input.signal, ...(sessionId ? { sessionId } : {}), ...(onSession ? { onSession } : {}) });
  const pump = pumpMessages(run, input.server, model);
  let reply: PromptResult;
  try {
    reply = await ask(prompt.text, prompt.sessionId, pump.attach);
  } finally {
    await pump.stop();
  }
  if (pump.untold.length > 0) return ask(threadMessagesPrompt(pump.untold), reply.sessionId);
  if (await awaitsReply(input.server, reply.sessionId)) return ask(ANSWER_THE_MESSAGE, reply.sessionId);
  return reply;
}

const EARLIER_WORK = "Your earlier work on this task is already in the checkout.";
const ANSWER_THE_MESSAGE = "Take the message above into account now, then end with your summary as before.";
const MESSAGE_POLL_MS = 1_000;

/** Takes the thread's new messages while a build prompt runs and tells them to its agent; what could not be told is kept for after. */
function pumpMessages(run: JobRun, server: OpencodeServer, model: string): { attach(sessionId: string): void; stop(): Promise<void>; untold: JobMessage[] } {
  const untold: JobMessage[] = [];
  let sessionId: string | null = null;
  let pending: Promise<void> | null = null;
  const tick = async (): Promise<void> => {
    if (sessionId === null) return;
    const taken = await takeMessagesFor(run);
    if (taken.length === 0) return;
    await tellRunningAgent(server, { sessionId, agent: "build", model, text: threadMessagesPrompt(taken) }).catch((error: unknown) => {
      run.log.warn({ err: error }, "telling the agent the thread's new messages failed; they follow its answer");
      untold.push(...taken);
    });
  };
  const timer = setInterval(() => {
    pending ??= tick()
      .catch((error: unknown) => run.log.warn({ err: error }, "reading the thread's new messages failed"))
      .finally(() => (pending = null));
  }, MESSAGE_POLL_MS);
  return {
    attach: (id) => (sessionId = id),
    async stop() {
      clearInterval(timer);
      await pending;
    },
    untold,
  };
}

/** The job's waiting messages, marked read, shown on the job's progress. */
async function takeMessagesFor(run: JobRun): Promise<JobMessage[]> {
  const result = await takeMessages(run.deps.pool, run.deps.db, run.job.id, run.now());
  if (!result) return [];
  run.job = result.job;
  const authors = [...new Set(result.taken.map((message) => `@${message.author}`))].join(", ");
  await run.event("message", `${result.taken.length === 1 ? "a message" : `${result.taken.length} messages`} from ${authors} reached the agent`);
  run.host.progress.update(run.job, { force: true });
  return result.taken;
}

/** The first round gets the plan; later rounds the errors. A fresh session (a resumed job) gets both. A round for a message after passing checks gets only the message. */
function roundPrompt(run: JobRun, input: BuildInput, state: BuildState, iteration: number, freshSession: boolean): string {
  const { maxIterations } = run.deps.settings;
  const start = buildPrompt(taskContextOf(run), { planMarkdown: renderPlanMarkdown(input.plan), report: input.report, project: input.project });
  const lastErrors = state.verification?.passed ? undefined : state.errorHistory.at(-1);
  if (lastErrors === undefined) {
    if (state.verification === null) return start;
    return freshSession ? `${start}\n\n${EARLIER_WORK}` : "";
  }
  const feedback =
    (state.debugMode
      ? debugPrompt({ iteration, maxIterations, errors: lastErrors, history: state.errorHistory.slice(0, -1) })
      : fixPrompt({ iteration, maxIterations, errors: lastErrors })) + reportingReminder(run.job.followUp?.reviewTargets.length ?? 0);
  return freshSession ? `${start}\n\n${EARLIER_WORK}\n\n${feedback}` : feedback;
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
