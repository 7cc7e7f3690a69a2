import type { FollowUp, JobTrigger } from "../store/jobs.sql.ts";

/** Everything a job needs from the event that asked for it, taken from the signed payload. */
export interface JobRequest {
  /**
   * The webhook delivery that asked for the job; null for the REST API. `triggerKey` names
   * what it is about (a comment, a label event, a review), so that a replay under another
   * delivery id is refused too.
   */
  delivery: { id: string; event: string; action: string | null; triggerKey?: string | null } | null;
  installationId: number;
  repo: { id: number; owner: string; name: string; cloneUrl: string; defaultBranch: string };
  issue: { number: number; title: string; isPullRequest: boolean };
  trigger: JobTrigger;
  task: string;
  requester: { login: string; id: number };
  triggerCommentId: number | null;
  /** Set for work on an existing pull request: the job commits to its head branch. */
  followUp?: FollowUp | null;
}
