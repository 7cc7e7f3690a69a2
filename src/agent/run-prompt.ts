/**
 * One prompt to one agent, to completion: the unit every phase (explore, plan, build,
 * fix) is made of. Sent with `promptAsync` and followed through the event stream, not
 * the blocking `session.prompt`: that request sends no headers until the loop ends, and
 * Node's fetch gives up on headers after 5 minutes, shorter than a build phase can be.
 *
 * opencode enforces no deadline of its own (a model answering 500 is retried for ~70 s;
 * a hanging one is waited for), so ours is applied here: on the deadline or the caller's
 * abort, the session is aborted (which also stops its running bash) before we throw.
 */
import type { OpencodeClient } from "@opencode-ai/sdk/v2";
import { JobError } from "../job-error.ts";
import { jobErrorOfAssistantError } from "./model-error.ts";
import { callOpencode } from "./opencode-call.ts";
import type { OpencodeServer } from "./opencode-server.ts";
import { emptyBaseline, messagesOf, readBaseline, readPromptOutcome, type SessionBaseline } from "./prompt-outcome.ts";
import { watchSession, type PromptProgress } from "./session-events.ts";

export type { PromptProgress } from "./session-events.ts";

export interface RunPromptOptions {
  agent: "build" | "plan" | "explore";
  /** `provider/model`. */
  model: string;
  text: string;
  /** Title of a new session (giving one saves opencode a model call to invent it). */
  title: string;
  /** How long the prompt may take, in milliseconds from now (the job's remaining time). */
  deadlineMs: number;
  signal?: AbortSignal;
  /** Continue this session instead of creating one. */
  sessionId?: string;
  onProgress?: (progress: PromptProgress) => void;
  /** Told the session's id as soon as it is known: what more may be said to the agent while it works (`tellRunningAgent`). */
  onSession?: (sessionId: string) => void;
}

export interface PromptResult {
  sessionId: string;
  /** The agent's final answer. */
  text: string;
  cost: number;
  tokensIn: number;
  tokensOut: number;
  tokensCache: { read: number; write: number };
  toolCalls: number;
}

type Server = Pick<OpencodeServer, "client" | "exited" | "output">;

/**
 * One prompt to an opencode server, to the end of the agent's turn: a session created or
 * continued, progress reported, the deadline and the signal honoured. It knows no job: a
 * job's cost budget and usage records are added around it by `promptWithinLimits`
 * (src/jobs/prompt-within-limits.ts).
 */
export async function runPrompt(server: Server, options: RunPromptOptions): Promise<PromptResult> {
  const { client } = server;
  const model = parseModel(options.model);
  const deadline = Date.now() + options.deadlineMs;
  throwIfStopped(options);
  const sessionId = options.sessionId ?? (await createSession(client, options.title));
  options.onSession?.(sessionId);
  const baseline = options.sessionId ? await readBaseline(client, sessionId) : emptyBaseline;
  const watch = watchSession({ client, sessionId, onProgress: options.onProgress, isFinished: (busySeen) => isOver(client, sessionId, busySeen, baseline) });
  const stop = stopWhenDue(deadline, options.signal);
  try {
    // 1. Wait for the event stream, 2. send the prompt, 3. wait for the session to go idle, or for a reason to stop.
    await interruptible(watch.connected, stop.reached, server);
    const parts = [{ type: "text" as const, text: options.text }];
    await callOpencode("accept the prompt", () =>
      client.session.promptAsync({ sessionID: sessionId, agent: options.agent, model, parts }, { throwOnError: true }),
    );
    await interruptible(watch.finished, stop.reached, server);
  } catch (error) {
    if (error instanceof StopRequested) {
      // The stop is what the user must hear about; a failed abort only rides along as its cause.
      const abortFailure = await callOpencode("abort the session", () => client.session.abort({ sessionID: sessionId }, { throwOnError: true })).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      throw stoppedError(error.reason, options, abortFailure);
    }
    throw error;
  } finally {
    stop.dispose();
    watch.close();
  }

  const outcome = await readPromptOutcome(client, sessionId, baseline);
  if (outcome.error) throw jobErrorOfAssistantError(outcome.error);
  if (!outcome.replied) throw new JobError("agent", `The ${options.agent} agent finished without replying.`, { retryable: true });
  const { text, cost, tokensIn, tokensOut, tokensCache, toolCalls } = outcome;
  return { sessionId, text, cost, tokensIn, tokensOut, tokensCache, toolCalls };
}

/**
 * More words for an agent while its prompt runs: a user message added to its session without
 * starting a turn of its own (`noReply`). opencode's loop reads the session's messages before
 * every model call, and goes on while a user message is newer than its last answer, so the
 * agent reads it before its next step. One that lands just as the loop ended is left
 * unanswered: `awaitsReply` tells, and the caller prompts again.
 */
export async function tellRunningAgent(server: Pick<OpencodeServer, "client">, input: { sessionId: string; agent: RunPromptOptions["agent"]; model: string; text: string }): Promise<void> {
  const parts = [{ type: "text" as const, text: input.text }];
  await callOpencode("add a message to the session", () =>
    server.client.session.promptAsync({ sessionID: input.sessionId, agent: input.agent, model: parseModel(input.model), noReply: true, parts }, { throwOnError: true }),
  );
}

/** Whether the session's last message is a user's: something was said to the agent that it has not answered. */
export async function awaitsReply(server: Pick<OpencodeServer, "client">, sessionId: string): Promise<boolean> {
  return (await messagesOf(server.client, sessionId)).at(-1)?.info.role === "user";
}

async function createSession(client: OpencodeClient, title: string): Promise<string> {
  const session = await callOpencode("create a session", () => client.session.create({ title }, { throwOnError: true }));
  return session.id;
}

/** After a lost event stream: the session is not busy, and this prompt has started (or even replied). */
async function isOver(client: OpencodeClient, sessionId: string, busySeen: boolean, baseline: SessionBaseline): Promise<boolean> {
  const statuses = await callOpencode("report session status", () => client.session.status(undefined, { throwOnError: true }));
  const status = statuses[sessionId]?.type ?? "idle";
  if (status !== "idle") return false;
  if (busySeen) return true;
  return (await readPromptOutcome(client, sessionId, baseline)).replied;
}

export function parseModel(model: string): { providerID: string; modelID: string } {
  const slash = model.indexOf("/");
  if (slash <= 0 || slash === model.length - 1) {
    throw new JobError("config", `The model "${model}" is not a \`provider/model\` id.`, {
      nextStep: "Set AGENT_MODEL_EXPLORE, AGENT_MODEL_PLAN and AGENT_MODEL_BUILD to ids such as `google/gemini-2.5-pro`.",
    });
  }
  // Model ids may contain slashes themselves (`openrouter/anthropic/claude-…`): split at the first one only.
  return { providerID: model.slice(0, slash), modelID: model.slice(slash + 1) };
}

class StopRequested extends Error {
  readonly reason: "timeout" | "cancelled";
  constructor(reason: "timeout" | "cancelled") {
    super(reason);
    this.reason = reason;
  }
}

function throwIfStopped(options: RunPromptOptions): void {
  if (options.signal?.aborted) throw stoppedError("cancelled", options);
  if (options.deadlineMs <= 0) throw stoppedError("timeout", options);
}

function stoppedError(reason: "timeout" | "cancelled", options: RunPromptOptions, cause?: unknown): JobError {
  if (reason === "cancelled") return new JobError("cancelled", `The ${options.agent} agent was stopped on request.`, { cause });
  return new JobError("timeout", `The ${options.agent} agent did not finish before the job's time limit.`, { cause });
}

/** A promise that rejects with StopRequested at the deadline or on abort. */
function stopWhenDue(deadline: number, signal: AbortSignal | undefined): { reached: Promise<never>; dispose(): void } {
  let dispose = (): void => {};
  const reached = new Promise<never>((_, reject) => {
    // setTimeout fires at once for delays past 2^31-1 ms: clamp (a 24-day deadline is no deadline anyway).
    const timer = setTimeout(() => reject(new StopRequested("timeout")), Math.min(Math.max(0, deadline - Date.now()), 2 ** 31 - 1));
    const onAbort = (): void => reject(new StopRequested("cancelled"));
    signal?.addEventListener("abort", onAbort, { once: true });
    dispose = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
  });
  reached.catch(() => {});
  return { reached, dispose };
}

/** Wait for `work`, unless a stop comes first or the server dies under us. */
async function interruptible<T>(work: Promise<T>, stop: Promise<never>, server: Server): Promise<T> {
  const died = server.exited.then((code) => {
    throw new JobError("agent", `The opencode server exited (code ${code}) in the middle of a prompt.\n${server.output().slice(-2_000)}`, { retryable: true });
  });
  died.catch(() => {});
  return Promise.race([work, stop, died]);
}
