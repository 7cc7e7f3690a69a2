import type { JobRequestFields } from "../store/jobs.sql.ts";

/** Everything a job needs from the event that asked for it, taken from the signed payload. */
export interface JobRequest extends JobRequestFields {
  /**
   * The webhook delivery that asked for the job; null for the REST API. `triggerKey` names
   * what it is about (a comment, a label event, a review), so that a replay under another
   * delivery id is refused too.
   */
  delivery: { id: string; event: string; action: string | null; triggerKey?: string | null } | null;
}
