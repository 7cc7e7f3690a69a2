import { JobError } from "../job-error.ts";

/** The HTTP status of a failed Octokit call (or anything carrying one); undefined for a network error. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number") return error.status;
  return undefined;
}

/**
 * A failed GitHub call as the job's failure: what the worker was doing, the status GitHub
 * answered, and whether trying again may help (no answer, GitHub's own failure, its rate
 * limit). `hint` adds what the user should check when the status says it is on their side.
 */
export function githubJobError(error: unknown, what: string, hint?: string): JobError {
  const status = statusOf(error);
  const retryable = status === undefined || status >= 500 || status === 429;
  return new JobError("github", `GitHub failed ${what} (HTTP ${status ?? "error"})${hint !== undefined && !retryable ? `; ${hint}` : ""}`, { retryable, cause: error });
}
