import type { FollowUp, JobTrigger } from "../store/jobs.sql.ts";

/** Everything a job needs from the event that asked for it, taken from the signed payload. */
export interface JobRequest {
  /** The webhook delivery that asked for the job; null for the REST API. */
  delivery: { id: string; event: string; action: string | null } | null;
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
