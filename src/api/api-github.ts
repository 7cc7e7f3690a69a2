import type { JobRequest } from "../jobs/job-request.ts";
import type { PipelineRun } from "../store/pipeline-runs.sql.ts";

/** What the REST API needs of GitHub (starting jobs and runs), which only the web role's app credentials can ask. */
export interface ApiGitHub {
  /** The app's installation on the repository and the repository's details; null when the app is not installed there. */
  repositoryOf(owner: string, name: string): Promise<{ installationId: number; repo: JobRequest["repo"] } | null>;
  /** Show the run on GitHub in the background (its steps' check runs, its comment, its pull request). */
  showRun(run: PipelineRun): void;
  /** Every repository the app is installed on (what the API token may start work on). */
  installedRepositories(): Promise<Array<{ id: number; fullName: string; defaultBranch: string }>>;
  /** Whether the repository has this branch. */
  hasBranch(installationId: number, owner: string, name: string, branch: string): Promise<boolean>;
  /** An issue's title, and whether it is a pull request; null when there is no such issue. */
  issueOf(installationId: number, owner: string, name: string, number: number): Promise<{ title: string; isPullRequest: boolean } | null>;
}
