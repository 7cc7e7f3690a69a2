/**
 * One request to the opencode server, its failure named. The SDK throws plain Errors
 * (with `throwOnError: true`); a job needs to know it was the agent's server that failed.
 */
import { JobError } from "../job-error.ts";

export async function callOpencode<T>(what: string, request: () => Promise<{ data: T }>): Promise<T> {
  try {
    const { data } = await request();
    return data;
  } catch (error) {
    if (error instanceof JobError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new JobError("agent", `The opencode server failed to ${what}: ${message}`, { retryable: true, cause: error });
  }
}
