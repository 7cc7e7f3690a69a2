import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import type { Config } from "../config/load-config.ts";
import { loopSettingsOf } from "../jobs/loop-settings.ts";
import { readCheckpoint } from "../jobs/checkpoint.ts";
import type { JobReporter } from "../jobs/job-host.ts";
import { createCancelWatch, type CancelWatch } from "../jobs/cancel-watch.ts";
import { RetryLater, runJob, type RunJobDeps, type WorkerSettings } from "../jobs/run-job.ts";
import { releaseAbandonedLocalJobs } from "../queue/release-abandoned.ts";
import { createLocalSandboxProvider } from "../sandbox/local-sandbox.ts";
import { openDatabase, type Database } from "../store/database.ts";
import { startEmbeddedPostgres } from "../store/embedded-postgres.ts";
import type { JobEvent } from "../store/job-events.sql.ts";
import { findJob, listJobEvents } from "../store/job-queries.ts";
import type { Job } from "../store/jobs.sql.ts";
import { migrateDatabase } from "../store/migrate.ts";
import { startHeartbeat, type Heartbeat } from "./heartbeat.ts";
import { localCancelWatch } from "./local-cancel-watch.ts";
import { localHost } from "./local-host.ts";
import { createLocalJob, type LocalRunRequest } from "./local-job.ts";
import { jobsOfGoneProcesses, recordProcess } from "./local-process.ts";

export { checkLocalRequest, LocalRunError, type LocalRunRequest } from "./local-job.ts";

export interface LocalOverrides {
  models?: Partial<WorkerSettings["models"]>;
  maxCostUsd?: number;
  maxIterations?: number;
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
  /** Local jobs found not ended at start whose process is gone (see `releaseAbandonedLocalJobs`): now cancelled. */
  readonly released: readonly Job[];
  run(request: LocalRunRequest, options: LocalRunOptions): Promise<LocalRunResult>;
  close(): Promise<void>;
}

/** `config` as `loadConfig` read it (the caller reports a bad environment before anything starts). */
export async function openLocalEngine(options: { config: Config; overrides?: LocalOverrides; log: Logger }): Promise<LocalEngine> {
  const { config } = options;
  const scratch = await mkdtemp(path.join(os.tmpdir(), "running-agent-"));
  // As root, the embedded Postgres runs as `postgres`, which must reach its data directory.
  await chmod(scratch, 0o755);
  const sandboxes = createLocalSandboxProvider({ rootDir: path.join(scratch, "sandboxes"), dataDir: scratch, unconfined: config.env.ALLOW_UNCONFINED_SANDBOX });
  const embedded = config.env.DATABASE_URL ? null : await startEmbeddedPostgres(path.join(scratch, "data"), options.log);
  const database = openDatabase(config.env.DATABASE_URL ?? embedded!.url, { max: 5 });
  const heartbeat = startHeartbeat(database.db, { log: options.log });
  const cancels = createCancelWatch(database.db, { log: options.log });
  const close = async () => {
    heartbeat.stop();
    cancels.stop();
    await database.close();
    await embedded?.stop();
    await rm(scratch, { recursive: true, force: true });
  };
  let released: Job[];
  try {
    await migrateDatabase(database.pool);
    // A database shared with earlier runs may hold their jobs, left running by a process that is gone.
    released = await releaseAbandonedLocalJobs(database.db, { gone: await jobsOfGoneProcesses(database.db) });
  } catch (error) {
    await close();
    throw error;
  }
  const settings = localSettingsOf(config, options.overrides ?? {});
  const workDir = path.join(scratch, "work");
  return {
    settings,
    released,
    run: (request, runOptions) => runOnce({ database, sandboxes, workDir, settings, log: options.log, heartbeat, cancels }, request, runOptions),
    close,
  };
}

/** What a run uses of its engine. */
interface EngineParts {
  database: Database;
  sandboxes: RunJobDeps["sandboxes"];
  workDir: string;
  settings: WorkerSettings;
  log: Logger;
  heartbeat: Heartbeat;
  cancels: CancelWatch;
}

async function runOnce(engine: EngineParts, request: LocalRunRequest, options: LocalRunOptions): Promise<LocalRunResult> {
  const { database } = engine;
  const created = await createLocalJob(database, request);
  // From here the row is there for anyone sharing the database to see: it is marked alive until the job ends.
  engine.heartbeat.add(created.id);
  try {
    await recordProcess(database.db, created.id);
    await runToEnd(engine, created.id, options);
  } finally {
    engine.heartbeat.remove(created.id);
  }
  const job = (await findJob(database.db, created.id))!;
  const pushed = readCheckpoint(job).pushed;
  return { job, events: await listJobEvents(database.db, job.id), branch: pushed ? job.branch : null, files: pushed?.files ?? [] };
}

async function runToEnd(engine: EngineParts, jobId: string, options: LocalRunOptions): Promise<void> {
  const { database } = engine;
  const cancellations = localCancelWatch(engine.cancels, options.signal);
  const events = followEvents(database, jobId, options.progress, options.onEvent);
  const deps: RunJobDeps = {
    pool: database.pool,
    db: database.db,
    hostFor: async () => localHost({ db: database.db, progress: events.progress }),
    sandboxes: engine.sandboxes,
    workDir: engine.workDir,
    settings: engine.settings,
    log: engine.log,
    cancellations,
  };
  try {
    // A transient failure hands the job back, as a worker would; here it is simply run again, from its checkpoint.
    for (let attempt = 1; ; attempt++) {
      try {
        await runJob(deps, jobId);
        return;
      } catch (error) {
        if (!(error instanceof RetryLater)) throw error;
        // Ctrl-C ends the wait: the next attempt then ends at once, as cancelled.
        await delay(Math.min(30_000, 1_000 * 2 ** attempt), undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
      }
    }
  } finally {
    cancellations.stop();
    await events.stop();
  }
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
