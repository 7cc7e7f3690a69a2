/**
 * The named failures of a job. Each says what failed in words a user can act on, and
 * whether trying again can help (`retryable`). Code throws these; only the boundaries
 * (webhook entry, job runner, API handler) catch.
 */
export type FailureKind =
  | "sandbox"
  | "clone"
  | "setup"
  | "model"
  | "agent"
  | "no_changes"
  | "tests"
  | "timeout"
  | "budget"
  | "push"
  | "github"
  | "config"
  | "cancelled"
  | "internal";

export class JobError extends Error {
  readonly kind: FailureKind;
  readonly retryable: boolean;
  /** One sentence telling the user what to do next. */
  readonly nextStep: string;

  constructor(kind: FailureKind, message: string, options: { retryable?: boolean; nextStep?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "JobError";
    this.kind = kind;
    this.retryable = options.retryable ?? false;
    this.nextStep = options.nextStep ?? nextStepFor(kind);
  }
}

const defaultNextStep: Record<FailureKind, string> = {
  sandbox: "This is usually temporary: comment `/agent retry` in a few minutes.",
  clone: "Check that the app is still installed on this repository, then comment `/agent retry`.",
  setup: "Check the install command (override it in `.github/agent.yml`), then comment `/agent retry`.",
  model: "The model provider failed; comment `/agent retry` later, or ask the operator to check the model settings.",
  agent: "The agent stopped unexpectedly; comment `/agent retry`, or rephrase the task.",
  no_changes: "The agent made no changes. Rephrase the task with more detail and comment `/agent <task>` again.",
  tests: "Look at the failing checks in the pull request and comment `/agent <feedback>` on it.",
  timeout: "Split the task into smaller ones, or ask the operator to raise AGENT_TIMEOUT_MINUTES.",
  budget: "Split the task into smaller ones, or ask the operator to raise AGENT_MAX_COST_USD.",
  push: "Someone may have pushed to the branch or protected it; check the branch, then comment `/agent retry`.",
  github: "GitHub did not accept a request; comment `/agent retry` in a few minutes.",
  config: "Fix `.github/agent.yml` on the default branch, then comment `/agent retry`.",
  cancelled: "Comment `/agent <task>` to start again.",
  internal: "This is a bug in Running Agent; comment `/agent retry`, and tell the operator if it happens again.",
};

/** What a user can do after a failure of this kind, when the failure says nothing more specific. */
export function nextStepFor(kind: FailureKind): string {
  return defaultNextStep[kind];
}

/** Wrap anything thrown into a JobError, keeping named ones as they are. */
export function asJobError(error: unknown): JobError {
  if (error instanceof JobError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new JobError("internal", message, { cause: error });
}

/** Failures of the worker's own machinery, where "no space left" means the worker's disk (not text the repository's tests printed). */
const MACHINERY: readonly FailureKind[] = ["sandbox", "clone", "setup", "push", "internal"];

/**
 * A failure because the worker's disk is full, told as such: git's or the file system's
 * words ("copy-fd: write returned: No space left on device") leave a user guessing, and
 * only the operator can fix it. Null for any other failure.
 */
export function diskFullError(error: unknown): JobError | null {
  if (error instanceof JobError && !MACHINERY.includes(error.kind)) return null;
  if (!mentionsDiskFull(error, 0)) return null;
  const detail = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  return new JobError("sandbox", `The worker's disk is full, so the job could not go on (${detail}).`, {
    cause: error,
    nextStep: "Nothing in your repository caused this: ask the operator to free space where the worker keeps its sandboxes (DATA_DIR), then comment `/agent retry`.",
  });
}

function mentionsDiskFull(error: unknown, depth: number): boolean {
  if (depth > 5 || error === null || error === undefined) return false;
  if (typeof error === "object" && "code" in error && error.code === "ENOSPC") return true;
  if (/no space left on device|\bENOSPC\b/i.test(error instanceof Error ? error.message : String(error))) return true;
  return error instanceof Error && mentionsDiskFull(error.cause, depth + 1);
}
