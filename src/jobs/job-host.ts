import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Job } from "../store/jobs.sql.ts";
import type { PushedWork } from "./checkpoint.ts";
import type { WorkToPush } from "./commit-and-push.ts";
import type { JobError } from "../job-error.ts";
import type { JobRun } from "./job-run.ts";

/**
 * Where a job comes from and where it goes: how its repository is reached, where its
 * progress shows, and where its result goes. The recipe (`run-job.ts`) talks only to
 * this. GitHub is one host (`src/github/host/github-host.ts`: check run, progress comment, pull
 * request); a repository on the user's machine is another (`src/local/local-host.ts`:
 * the terminal, a branch in that repository).
 */
export interface JobHost {
  /** Shows the job where its progress goes (once, whoever asks first); the row as it is after. */
  announce(jobId: string): Promise<Job>;
  /**
   * Whether another process announces this job too, as soon as it is asked for (the web
   * process, on the webhook), recording its base commit first: the job may then start on
   * that base and finish the announcement beside its work instead of waiting for it. A job
   * nobody else announces is announced before it starts, at once.
   */
  announcedElsewhere?(job: Job): boolean;
  /** Shows the state of a job that ended before this worker could run it (a cancel). */
  showState(job: Job): Promise<void>;
  /** Progress while the job runs. Never blocks the job. */
  readonly progress: JobReporter;
  /** Before the sandbox exists: decide the base commit (and the branch) the workspace is made of. */
  prepare(run: JobRun): Promise<void>;
  /** Write down what the agent is asked (a pull request's discussion, an issue's context), while the workspace is made. */
  gatherTask(run: JobRun): Promise<void>;
  /** Puts the files the agent is given beside the checkout (an issue's images) into its sandbox, before the agents start. */
  attach(run: JobRun, sandbox: Sandbox): Promise<void>;
  /** The secret git pushes and fetches with; null where none is needed (a path on this machine). */
  gitToken(job: Job): Promise<string | null>;
  /** Extra hosts the job's sandbox may reach, decided before the sandbox exists. */
  egress(run: JobRun): Promise<string[]>;
  /** Hands the agent's work over (a push, or a patch proposed where nothing may be pushed), checkpointed. */
  publish(run: JobRun, sandbox: Sandbox, work: WorkToPush): Promise<PushedWork>;
  /** The last step once the work is out: a pull request, answers in review threads. Ends the job. */
  deliver(run: JobRun, pushed: PushedWork): Promise<void>;
  /** What is still to say after the job failed, beyond the progress (review threads). Never throws. */
  failed(run: JobRun, error: JobError): Promise<void>;
}

/** Where a job's progress shows while it runs (`src/github/show/progress-writer.ts` on GitHub, the terminal for a local job). */
export interface JobReporter {
  /**
   * Show the job's current state, without waiting for GitHub: the write happens in the
   * background, and when several states queue up only the latest is sent. Skipped when
   * the last update was too recent, unless forced.
   */
  update(job: Job, options?: { force?: boolean }): void;
  /** Wait until every queued update has reached GitHub (or failed). */
  flush(): Promise<void>;
  /**
   * Show the final state: completes the check run and edits the comment; updates after it
   * are dropped. False when that failed (it is logged), or when the job has neither yet
   * (its announcement failed): then it is not shown, and the minute's sweep shows it.
   */
  finish(job: Job): Promise<boolean>;
}
