import type { ProbotOctokit } from "probot";
import type pg from "pg";
import type { Logger } from "pino";
import { buildOpencodeConfig } from "../agent/opencode-config.ts";
import { startOpencodeServer, type OpencodeServer } from "../agent/opencode-server.ts";
import { buildTaskPrompt } from "../agent/prompts.ts";
import { runPrompt } from "../agent/run-prompt.ts";
import { createRedactor, redactKnownTokens } from "../context/redact.ts";
import { ensureAnnounced } from "../github/announce-job.ts";
import { openPullRequest } from "../github/pull-request.ts";
import { changedFiles, cloneRepository, commitAll, createBranch, excludeInstallArtifacts, hasChanges, pushBranch, restoreGitConfig, snapshotGitConfig } from "../sandbox/git-workspace.ts";
import type { Sandbox, SandboxLimits, SandboxProvider } from "../sandbox/sandbox.ts";
import type { Db } from "../store/database.ts";
import { appendJobEvent, findJob, updateJob } from "../store/job-queries.ts";
import type { Job, JobStatus } from "../store/jobs.sql.ts";
import { detectProjectIn } from "../verify/detect-project-in.ts";
import { runTests } from "../verify/run-tests.ts";
import { asJobError, JobError } from "./errors.ts";
import { createJobReporter, type JobReporter } from "./job-reporter.ts";
import type { Phase } from "./phases.ts";

export interface WorkerSettings {
  models: { explore: string; plan: string; build: string };
  opencodeExtraConfig: Record<string, unknown>;
  maxCostUsd: number;
  maxIterations: number;
  timeoutMs: number;
  limits: SandboxLimits;
  /** Attempts (first run included) before a transient failure becomes final. */
  maxAttempts: number;
  /** Committer e-mail of the app's bot user. */
  botEmail: string;
}

export interface RunJobDeps {
  pool: pg.Pool;
  db: Db;
  /** An Octokit authenticated as the installation, for comments, check runs and pull requests. */
  installationOctokit(installationId: number): Promise<ProbotOctokit>;
  /** A token for git only: this one repository, `contents: write`, nothing else. */
  repositoryToken(installationId: number, repoId: number): Promise<string>;
  sandboxes: SandboxProvider;
  settings: WorkerSettings;
  log: Logger;
  now?: () => Date;
}

/** Thrown to hand a job back to the queue, which retries it with backoff. */
export class RetryLater extends Error {
  override name = "RetryLater";
}

/**
 * One job, start to finish. Reads as the recipe: each step one call, helpers below.
 * Everything a step learns goes into the job row, so any worker can report on it.
 */
export async function runJob(deps: RunJobDeps, jobId: string): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const existing = await findJob(deps.db, jobId);
  if (!existing || isTerminal(existing.status)) return;
  const octokit = await deps.installationOctokit(existing.installationId);
  const log = deps.log.child({ jobId });
  const announced = await ensureAnnounced(deps.pool, octokit, jobId, now);
  let job = await updateJob(deps.db, jobId, { status: "running", startedAt: announced.startedAt ?? now(), attempts: announced.attempts + 1, failureKind: null, failureMessage: null });
  const reporter = createJobReporter(octokit, log, { now });
  const run = new JobRun(deps, job, reporter, log, now);
  let sandbox: Sandbox | null = null;
  let server: OpencodeServer | null = null;
  try {
    await reporter.update(job, { force: true });
    const token = await run.step("prepare", () => deps.repositoryToken(job.installationId, job.repoId));
    run.addSecret(token);
    sandbox = await run.step("prepare", () => createSandbox(deps, job));
    const gitConfig = await run.step("prepare", () => prepareWorkspace(sandbox!, job, token, deps.settings.botEmail));
    const project = await run.step("prepare", () => detectProjectIn(sandbox!));
    await run.step("prepare", () => installDependencies(run, sandbox!, project.install));
    server = await run.step("build", () => startOpencodeServer(sandbox!, { config: opencodeConfigFor(deps.settings) }));
    const summary = await run.step("build", () => runBuildAgent(run, server!, project));
    await server.stop();
    server = null;
    const tests = await run.step("verify", () => runTests(sandbox!, project.test, run.remainingMs()));
    await run.record({ testsPassed: tests.passed });
    await run.event("tests", tests.passed === null ? "no test command detected" : tests.passed ? "tests passed" : "tests failed", { output: tests.summary });
    const delivered = await run.step("deliver", () => deliver(run, sandbox!, octokit, { gitConfig, token, summary, tests }));
    job = await run.finish("succeeded", { prUrl: delivered.url, prNumber: delivered.number });
  } catch (caught) {
    const error = asJobError(caught);
    if (error.retryable && run.job.attempts < deps.settings.maxAttempts) {
      await run.event("retry", `transient failure, retrying: ${error.message}`);
      await updateJob(deps.db, jobId, { status: "queued" });
      throw new RetryLater(error.message, { cause: error });
    }
    job = await run.fail(error);
  } finally {
    await server?.stop().catch((error: unknown) => log.warn({ err: error }, "stopping opencode failed"));
    await sandbox?.destroy().catch((error: unknown) => log.warn({ err: error }, "destroying the sandbox failed"));
  }
  await reporter.finish(job);
}

function isTerminal(status: JobStatus): boolean {
  return status === "succeeded" || status === "failed" || status === "cancelled" || status === "timed_out";
}

/** A job in progress: its row, its clock, its secrets, and how it reports. */
class JobRun {
  job: Job;
  readonly deps: RunJobDeps;
  readonly reporter: JobReporter;
  readonly log: Logger;
  readonly now: () => Date;
  readonly deadline: number;
  private readonly secrets: string[] = [];
  private readonly timings: Record<string, number> = {};

  constructor(deps: RunJobDeps, job: Job, reporter: JobReporter, log: Logger, now: () => Date) {
    this.deps = deps;
    this.job = job;
    this.reporter = reporter;
    this.log = log;
    this.now = now;
    this.deadline = (job.startedAt ?? now()).getTime() + deps.settings.timeoutMs;
    Object.assign(this.timings, job.timings);
  }

  addSecret(secret: string): void {
    this.secrets.push(secret);
  }

  redact(text: string): string {
    return redactKnownTokens(createRedactor(this.secrets)(text));
  }

  remainingMs(): number {
    const remaining = this.deadline - this.now().getTime();
    if (remaining <= 0) throw new JobError("timeout", `the job passed its time limit of ${Math.round(this.deps.settings.timeoutMs / 60_000)} minutes`);
    return remaining;
  }

  /** Run one piece of a phase: enters the phase (shown on GitHub), times it, checks the clock. */
  async step<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    this.remainingMs();
    if (this.job.phase !== phase) {
      this.job = await updateJob(this.deps.db, this.job.id, { phase });
      await this.event("phase", `phase ${phase} started`);
      await this.reporter.update(this.job, { force: true });
    }
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.timings[phase] = (this.timings[phase] ?? 0) + Math.round(performance.now() - started);
    }
  }

  async record(patch: Parameters<typeof updateJob>[2]): Promise<void> {
    this.job = await updateJob(this.deps.db, this.job.id, { ...patch, timings: { ...this.timings } });
    await this.reporter.update(this.job);
  }

  async event(kind: string, message: string, data?: Record<string, unknown>): Promise<void> {
    const safeData = data ? (JSON.parse(this.redact(JSON.stringify(data))) as Record<string, unknown>) : undefined;
    await appendJobEvent(this.deps.db, this.job.id, kind, this.redact(message), safeData);
  }

  async finish(status: JobStatus, patch: Parameters<typeof updateJob>[2]): Promise<Job> {
    const finishedAt = this.now();
    this.timings.total = finishedAt.getTime() - (this.job.startedAt ?? finishedAt).getTime();
    this.job = await updateJob(this.deps.db, this.job.id, { ...patch, status, finishedAt, timings: { ...this.timings } });
    await this.event("finished", `job ${status}`);
    return this.job;
  }

  async fail(error: JobError): Promise<Job> {
    const status: JobStatus = error.kind === "timeout" ? "timed_out" : error.kind === "cancelled" ? "cancelled" : "failed";
    this.log.warn({ kind: error.kind, err: error }, "job failed");
    return this.finish(status, { failureKind: error.kind, failureMessage: this.redact(error.message) });
  }
}

async function createSandbox(deps: RunJobDeps, job: Job): Promise<Sandbox> {
  try {
    return await deps.sandboxes.create({ jobId: job.id, limits: deps.settings.limits });
  } catch (error) {
    throw new JobError("sandbox", `the sandbox did not start: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
  }
}

async function prepareWorkspace(sandbox: Sandbox, job: Job, token: string, botEmail: string): Promise<string> {
  if (job.baseSha === null) throw new JobError("github", "the base commit of the default branch is unknown");
  await cloneRepository(sandbox, { url: job.cloneUrl, branch: job.defaultBranch, sha: job.baseSha, credentials: { token } });
  await createBranch(sandbox, job.branch, { email: botEmail });
  return snapshotGitConfig(sandbox);
}

async function installDependencies(run: JobRun, sandbox: Sandbox, install: string[] | null): Promise<void> {
  if (!install) return;
  const result = await sandbox.exec(install, { timeoutMs: Math.min(run.remainingMs(), 15 * 60_000) });
  // A failed install is reported, not fatal: fixing it may be part of the task.
  const outcome = result.exitCode === 0 ? "dependencies installed" : `\`${install.join(" ")}\` failed with exit code ${result.exitCode}`;
  const excluded = await excludeInstallArtifacts(sandbox);
  await run.event("install", outcome, { output: (result.stdout + result.stderr).slice(-4_000), excludedFromCommit: excluded });
}

function opencodeConfigFor(settings: WorkerSettings) {
  return buildOpencodeConfig({ models: settings.models, extra: settings.opencodeExtraConfig });
}

async function runBuildAgent(run: JobRun, server: OpencodeServer, project: Awaited<ReturnType<typeof detectProjectIn>>): Promise<string> {
  const job = run.job;
  const text = buildTaskPrompt({
    repository: `${job.repoOwner}/${job.repoName}`,
    issueNumber: job.issueNumber,
    issueTitle: job.issueTitle,
    task: job.task,
    requester: job.requesterLogin,
    project,
  });
  const result = await runPrompt(server, {
    agent: "build",
    model: run.deps.settings.models.build,
    text,
    title: `#${job.issueNumber} ${job.issueTitle}`.slice(0, 100),
    deadlineMs: run.remainingMs(),
  }).catch((error: unknown) => {
    // opencode has already retried the provider with backoff (5 times, over about a
    // minute); running the whole job again on top of that would only multiply the wait.
    if (error instanceof JobError && error.kind === "model") throw new JobError("model", `${error.message} (after the agent's own retries)`, { cause: error });
    throw error;
  });
  await run.record({
    iterations: job.iterations + 1,
    totalCost: job.totalCost + result.cost,
    totalTokensIn: job.totalTokensIn + result.tokensIn,
    totalTokensOut: job.totalTokensOut + result.tokensOut,
  });
  await run.event("agent", "the build agent finished", { summary: result.text, toolCalls: result.toolCalls });
  if (run.job.totalCost > run.deps.settings.maxCostUsd) {
    throw new JobError("budget", `the job cost $${run.job.totalCost.toFixed(4)}, over its budget of $${run.deps.settings.maxCostUsd}`);
  }
  return result.text;
}

interface DeliverInput {
  gitConfig: string;
  token: string;
  summary: string;
  tests: { passed: boolean | null; summary: string };
}

async function deliver(run: JobRun, sandbox: Sandbox, octokit: ProbotOctokit, input: DeliverInput): Promise<{ number: number; url: string }> {
  const job = run.job;
  await restoreGitConfig(sandbox, input.gitConfig);
  if (!(await hasChanges(sandbox, job.baseSha!))) {
    throw new JobError("no_changes", `the agent finished without changing any file. Its last words: ${input.summary.slice(0, 500)}`);
  }
  await commitAll(sandbox, commitMessage(job, input.summary));
  const files = await changedFiles(sandbox, job.baseSha!);
  await pushBranch(sandbox, { url: job.cloneUrl, branch: job.branch, credentials: { token: input.token } });
  await run.event("push", `pushed ${files.length} changed file(s) to ${job.branch}`, { files });
  try {
    return await openPullRequest(octokit, job, {
      summary: run.redact(input.summary),
      testsPassed: input.tests.passed,
      testSummary: run.redact(input.tests.summary),
      changedFiles: files,
      costUsd: job.totalCost,
      tokensIn: job.totalTokensIn,
      tokensOut: job.totalTokensOut,
      durationMs: run.now().getTime() - (job.startedAt ?? run.now()).getTime(),
    });
  } catch (error) {
    const status = (error as { status?: number }).status;
    throw new JobError("github", `opening the pull request failed${status ? ` (HTTP ${status})` : ""}: ${error instanceof Error ? error.message : String(error)}`, {
      retryable: status === undefined || status >= 500,
      cause: error,
    });
  }
}

function commitMessage(job: Job, summary: string): string {
  const subject = `${job.issueTitle.trim() || "Changes requested"} (#${job.issueNumber})`.slice(0, 72);
  const body = summary.trim().slice(0, 4_000);
  const coAuthor = `Co-authored-by: ${job.requesterLogin} <${job.requesterId}+${job.requesterLogin}@users.noreply.github.com>`;
  return [subject, "", body, "", coAuthor, ""].join("\n");
}
