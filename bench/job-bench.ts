/**
 * What the benches that run whole jobs in this process share: the app as they start it,
 * the machine's CPU clock, and the moment a job is over for them (its final report on GitHub).
 */
import { readFileSync } from "node:fs";
import pino from "pino";
import { startApp, type RunningApp } from "../src/app.ts";
import { loadConfig } from "../src/config/load-config.ts";
import type { SandboxProvider } from "../src/sandbox/sandbox.ts";
import { testAppEnv, TestOctokit } from "../test/support/probot.ts";
import nock from "nock";
import { testRepo } from "../test/support/github-fixtures.ts";
import { nockGitHubForJobs, type GitHubTimeline } from "./fake-github.ts";

export function startBenchApp(options: { databaseUrl: string; dataDir: string; modelEnv: Record<string, string>; sandboxes?: SandboxProvider }): Promise<RunningApp> {
  const source = testAppEnv({
    DATABASE_URL: options.databaseUrl,
    DATA_DIR: options.dataDir,
    ROLE: "all",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "silent",
    // As in production unless AGENT_WARM_AGENTS says otherwise (0: each job starts its own opencode).
    AGENT_WARM_AGENTS: process.env.AGENT_WARM_AGENTS ?? "1",
    ...options.modelEnv,
  });
  const config = loadConfig(source);
  // Retries and write throttling off: with an instant model the throttle's one write a
  // second would be most of what is measured, and it is GitHub's pacing, not ours.
  return startApp({ config, log: pino({ level: config.env.LOG_LEVEL }), Octokit: TestOctokit, ...(options.sandboxes ? { sandboxes: options.sandboxes } : {}) });
}

/** CPU-seconds all cores have spent busy since boot (/proc/stat: all but idle and iowait). */
export function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / 100;
}

export interface JobRow {
  id: string;
  status: string;
  failure_kind: string | null;
  failure_message: string | null;
  check_run_id: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  timings: Record<string, number>;
}

/**
 * The job's row once it has finished and its final report is on GitHub (check run
 * completed, then the comment edited): only then is the app idle for the next job.
 */
export async function finishedJob(app: RunningApp, github: GitHubTimeline, commentId: number, issueNumber: number): Promise<JobRow | undefined> {
  const { rows } = await app.database.pool.query<JobRow>(
    "select id, status, failure_kind, failure_message, check_run_id, started_at, finished_at, timings from jobs where trigger_comment_id = $1",
    [commentId],
  );
  const job = rows[0];
  if (!job?.finished_at) return undefined;
  // Never announced: there is no final report to wait for, and the checks after will say why.
  if (job.check_run_id === null) return job;
  const completedAt = github.checkRunCompletedAt.get(Number(job.check_run_id));
  const editedAt = github.commentEditedAt.get(issueNumber);
  if (completedAt === undefined || editedAt === undefined || editedAt < completedAt) return undefined;
  return job;
}

/** GitHub faked in this process for the bench repository's jobs (nock; loopback traffic let through); `restore` undoes it. */
export function fakeGitHubInProcess(): { github: GitHubTimeline; restore(): Promise<void> } {
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith("127.0.0.1"));
  return {
    github: nockGitHubForJobs(testRepo()),
    async restore() {
      nock.cleanAll();
      nock.enableNetConnect();
    },
  };
}
