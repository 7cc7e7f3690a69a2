import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Logger } from "pino";
import type { Config } from "../config/load-config.ts";
import { loopSettingsOf } from "../jobs/loop-settings.ts";
import { slugifyTitle } from "../github/branch-name.ts";
import { readCheckpoint } from "../jobs/checkpoint.ts";
import type { JobReporter } from "../jobs/job-reporter.ts";
import { CancelRequested, type CancelWatch } from "../jobs/cancel-watch.ts";
import { RetryLater, runJob, type RunJobDeps, type WorkerSettings } from "../jobs/run-job.ts";
import { createLocalSandboxProvider } from "../sandbox/local-sandbox.ts";
import { openDatabase, type Database } from "../store/database.ts";
import { startEmbeddedPostgres } from "../store/embedded-postgres.ts";
import type { JobEvent } from "../store/job-events.sql.ts";
import { findJob, listJobEvents } from "../store/job-queries.ts";
import { jobs, type Job } from "../store/jobs.sql.ts";
import { migrateDatabase } from "../store/migrate.ts";
import { localHost } from "./local-host.ts";

const run = promisify(execFile);

/** Bad input from the user (not a repository, an unknown ref): the CLI exits 2 with this message. */
export class LocalRunError extends Error {
  override name = "LocalRunError";
}

export interface LocalOverrides {
  models?: Partial<WorkerSettings["models"]>;
  maxCostUsd?: number;
  maxIterations?: number;
}

export interface LocalRunRequest {
  /** Any path inside the repository. */
  repo: string;
  task: string;
  /** Branch, tag or commit to build on; the current branch when left out. */
  base?: string;
}

export interface LocalRunOptions {
  progress: JobReporter;
  /** Aborting it cancels the job: its sandbox is removed and nothing is pushed. */
  signal?: AbortSignal;
  /** Each line of the job's log as it is written (read back about twice a second). */
  onEvent?: (event: JobEvent) => void;
}

export interface LocalRunResult {
  job: Job;
  events: JobEvent[];
  /** The branch created in the user's repository, or null when nothing was pushed. */
  branch: string | null;
  /** Files the pushed commit changed. */
  files: string[];
}

/**
 * What runs jobs on this machine: a database (DATABASE_URL when set, or a throwaway
 * embedded Postgres), a local sandbox provider and the worker's settings from the
 * environment, overridden by the command line. One engine runs any number of jobs
 * (`running-agent eval` runs a suite on one).
 */
export interface LocalEngine {
  readonly settings: WorkerSettings;
  run(request: LocalRunRequest, options: LocalRunOptions): Promise<LocalRunResult>;
  close(): Promise<void>;
}

/** `config` as `loadConfig` read it (the caller reports a bad environment before anything starts). */
export async function openLocalEngine(options: { config: Config; overrides?: LocalOverrides; log: Logger }): Promise<LocalEngine> {
  const { config } = options;
  const scratch = await mkdtemp(path.join(os.tmpdir(), "running-agent-"));
  // As root, the embedded Postgres runs as `postgres`, which must reach its data directory.
  await chmod(scratch, 0o755);
  // Before a Postgres starts: a host where the sandbox cannot be confined is refused at once.
  let sandboxes: RunJobDeps["sandboxes"];
  try {
    sandboxes = createLocalSandboxProvider({ rootDir: path.join(scratch, "sandboxes"), dataDir: scratch, unconfined: config.env.ALLOW_UNCONFINED_SANDBOX });
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  const embedded = config.env.DATABASE_URL ? null : await startEmbeddedPostgres(path.join(scratch, "data"), options.log);
  const database = openDatabase(config.env.DATABASE_URL ?? embedded!.url, { max: 5 });
  const close = async () => {
    await database.close();
    await embedded?.stop();
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    await migrateDatabase(database.pool);
  } catch (error) {
    await close();
    throw error;
  }
  const settings = localSettingsOf(config, options.overrides ?? {});
  const workDir = path.join(scratch, "work");
  return {
    settings,
    run: (request, runOptions) => runOnce({ database, sandboxes, workDir, settings, log: options.log }, request, runOptions),
    close,
  };
}

async function runOnce(
  engine: { database: Database; sandboxes: RunJobDeps["sandboxes"]; workDir: string; settings: WorkerSettings; log: Logger },
  request: LocalRunRequest,
  options: LocalRunOptions,
): Promise<LocalRunResult> {
  const { database } = engine;
  const created = await createLocalJob(database, request);
  const cancellations = cancelOn(options.signal);
  const events = followEvents(database, created.id, options.progress, options.onEvent);
  const deps: RunJobDeps = {
    pool: database.pool,
    db: database.db,
    hostFor: async () => localHost({ db: database.db, progress: events.progress }),
    sandboxes: engine.sandboxes,
    workDir: engine.workDir,
    settings: engine.settings,
    log: engine.log,
    lookUpRole: async () => null,
    cancellations,
  };
  try {
    // A transient failure hands the job back, as a worker would; here it is simply run again, from its checkpoint.
    for (let attempt = 1; ; attempt++) {
      try {
        await runJob(deps, created.id);
        break;
      } catch (error) {
        if (!(error instanceof RetryLater)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1_000 * 2 ** attempt)));
      }
    }
  } finally {
    await events.stop();
  }
  const job = (await findJob(database.db, created.id))!;
  const pushed = readCheckpoint(job).pushed;
  return { job, events: await listJobEvents(database.db, job.id), branch: pushed ? job.branch : null, files: pushed?.files ?? [] };
}

/**
 * Hands the job's log to `onEvent` as it grows, in order with the progress: every state
 * `progress` is shown comes after the events written before it. The job never waits: the
 * reads and writes queue behind each other. `stop` delivers what is left.
 */
function followEvents(database: Database, jobId: string, progress: JobReporter, onEvent: LocalRunOptions["onEvent"]): { progress: JobReporter; stop(): Promise<void> } {
  if (!onEvent) return { progress, stop: async () => {} };
  let lastId = 0;
  let queue: Promise<void> = Promise.resolve();
  const then = (work: () => void | Promise<void>) => {
    queue = queue.then(work).catch(() => {});
    return queue;
  };
  const readEvents = async () => {
    for (const event of await listJobEvents(database.db, jobId, lastId)) {
      lastId = event.id;
      onEvent(event);
    }
  };
  const timer = setInterval(() => void then(readEvents), 500);
  return {
    progress: {
      update: (job, updateOptions) => void then(readEvents).then(() => progress.update(job, updateOptions)),
      flush: async () => {
        await queue;
        await progress.flush();
      },
      finish: async (job) => {
        await then(readEvents);
        return progress.finish(job);
      },
    },
    async stop() {
      clearInterval(timer);
      await then(readEvents);
    },
  };
}

/**
 * Whether the request can run (a repository, a base that exists), checked before anything
 * starts: a mistyped path or ref is told at once, not after a database has started.
 */
export async function checkLocalRequest(request: LocalRunRequest): Promise<void> {
  const root = await repositoryRoot(request.repo);
  await baseBranchOf(root, request.base);
  await commitOf(root, request.base ?? "HEAD");
}

/** The job row for a run: the base commit and the new branch's name are decided here, from the user's repository. */
async function createLocalJob(database: Database, request: LocalRunRequest): Promise<Job> {
  const root = await repositoryRoot(request.repo);
  const baseBranch = await baseBranchOf(root, request.base);
  const baseSha = await commitOf(root, request.base ?? "HEAD");
  const title = request.task.trim().split("\n")[0] ?? "";
  const branch = await freeBranchName(root, `agent/${slugifyTitle(title) || "task"}`);
  const [job] = await database.db
    .insert(jobs)
    .values({
      installationId: 0,
      repoId: 0,
      repoOwner: "local",
      repoName: path.basename(root),
      cloneUrl: root,
      defaultBranch: baseBranch,
      issueNumber: 0,
      issueTitle: title,
      trigger: "local",
      task: request.task,
      requesterLogin: os.userInfo().username,
      requesterId: 0,
      branch,
      baseSha,
      baseBranch,
    })
    .returning();
  return job!;
}

async function repositoryRoot(repo: string): Promise<string> {
  try {
    return (await git(path.resolve(repo), ["rev-parse", "--show-toplevel"])).trim();
  } catch {
    throw new LocalRunError(`${repo} is not inside a git repository`);
  }
}

/**
 * The branch the sandbox clones: `base` when it names one, else the branch checked out.
 * A tag or commit as `base` must be on that branch (the clone takes one branch).
 */
async function baseBranchOf(root: string, base: string | undefined): Promise<string> {
  if (base !== undefined && (await succeeds(root, ["show-ref", "--verify", "--quiet", `refs/heads/${base}`]))) return base;
  try {
    return (await git(root, ["symbolic-ref", "--short", "HEAD"])).trim();
  } catch {
    throw new LocalRunError("HEAD is detached: pass --base <branch>");
  }
}

async function commitOf(root: string, ref: string): Promise<string> {
  try {
    return (await git(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).trim();
  } catch {
    throw new LocalRunError(`${ref} is not a branch, tag or commit of the repository`);
  }
}

/** `agent/<slug>`, or `agent/<slug>-2`, `-3`… when the repository has that branch already: never overwritten. */
async function freeBranchName(root: string, wanted: string): Promise<string> {
  for (let suffix = 1; ; suffix++) {
    const candidate = suffix === 1 ? wanted : `${wanted}-${suffix}`;
    if (!(await succeeds(root, ["show-ref", "--verify", "--quiet", `refs/heads/${candidate}`]))) return candidate;
  }
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run("git", args, { cwd, encoding: "utf8" });
  return stdout;
}

async function succeeds(cwd: string, args: string[]): Promise<boolean> {
  return git(cwd, args).then(
    () => true,
    () => false,
  );
}

/** Ctrl-C cancels the job (its sandbox is removed, nothing is pushed) instead of leaving it half done. */
function cancelOn(signal: AbortSignal | undefined): CancelWatch {
  return {
    watch() {
      const controller = new AbortController();
      if (signal) signal.addEventListener("abort", () => controller.abort(new CancelRequested("you (interrupted)")), { once: true });
      if (signal?.aborted) controller.abort(new CancelRequested("you (interrupted)"));
      return controller.signal;
    },
    unwatch() {},
    stop() {},
  };
}

/** The loop's settings, with what the command line overrides; no gateway, no parking: one job, on this machine. */
function localSettingsOf(config: Config, overrides: LocalOverrides): WorkerSettings {
  const loop = loopSettingsOf(config);
  return {
    ...loop,
    models: { ...loop.models, ...overrides.models },
    maxCostUsd: overrides.maxCostUsd ?? loop.maxCostUsd,
    maxIterations: overrides.maxIterations ?? loop.maxIterations,
    botEmail: "running-agent@localhost",
    gateway: null,
    keepWorkspaceHours: 0,
    egressPatterns: [],
  };
}
