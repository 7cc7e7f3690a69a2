import { setTimeout as delay } from "node:timers/promises";
import type { PgBoss } from "pg-boss";
import type pg from "pg";
import type { Logger } from "pino";
import { applyPatch } from "../sandbox/git-workspace.ts";
import type { MirrorCache } from "../sandbox/mirror-cache.ts";
import type { Sandbox, SandboxLimits, SandboxProvider } from "../sandbox/sandbox.ts";
import { closeWorkRepository, type WorkRepository } from "../sandbox/work-repository.ts";
import type { Db } from "../store/database.ts";
import { claimJob, findJob } from "../store/job-queries.ts";
import { hasEnded, type Job } from "../store/jobs.sql.ts";
import { detectProjectIn } from "../verify/detect-project-in.ts";
import { checksOf } from "../verify/run-checks.ts";
import { buildUntilGreen } from "./build-loop.ts";
import { readCheckpoint, type BuildState, type PushedWork } from "./checkpoint.ts";
import { CancelRequested, type CancelWatch } from "./cancel-watch.ts";
import { asJobError, diskFullError, JobError } from "../job-error.ts";
import { grantGatewayToken, revokeGatewayAccess, type GatewaySettings } from "./gateway-access.ts";
import { agentServerFor } from "./agent-server.ts";
import type { WarmAgent, WarmAgents } from "./warm-agents.ts";
import type { JobHost } from "./job-host.ts";
import { JobRun } from "./job-run.ts";
import { handOnMessages } from "./job-messages.ts";
import { openWorkspace, releaseWorkspace } from "./open-workspace.ts";
import { baselineFailures, installDependencies } from "./prepare-project.ts";
import { SandboxHolder } from "./sandbox-holder.ts";
import { explore, mapForExplore, plan } from "./explore-and-plan.ts";

export interface WorkerSettings {
  models: { explore: string; plan: string; build: string };
  opencodeExtraConfig: Record<string, unknown>;
  maxCostUsd: number;
  maxIterations: number;
  /** Jaccard similarity of consecutive failures at which the agent switches to debug mode. */
  debugSimilarity: number;
  timeoutMs: number;
  limits: SandboxLimits;
  /** Attempts (first run included) before a transient failure becomes final. */
  maxAttempts: number;
  /** Committer e-mail of the app's bot user. */
  botEmail: string;
  /** The model gateway; null: model keys come from opencodeExtraConfig, as the operator wrote it. */
  gateway: GatewaySettings | null;
  /** How long a finished job's sandbox is parked for a follow-up on its pull request; 0: never parked. */
  keepWorkspaceHours: number;
  /** Host patterns a repository may add to its E2B sandbox's egress (`sandbox.egress` in agent.yml). */
  egressPatterns: string[];
}

export interface RunJobDeps {
  pool: pg.Pool;
  db: Db;
  /** Where the job's repository lives, its progress shows and its result goes (GitHub, or this machine). */
  hostFor(job: Job, log: Logger): Promise<JobHost>;
  sandboxes: SandboxProvider;
  settings: WorkerSettings;
  log: Logger;
  /** Bare mirrors of the repositories on this host: a job's work repository borrows their objects, so a second job fetches almost nothing. */
  mirrors?: MirrorCache;
  /** Where each job's work repository lives on this host (`DATA_DIR/work`): the only git that holds a token. */
  workDir: string;
  /** Tells a running job that someone asked to cancel it; without it, jobs cannot be cancelled while they run. */
  cancellations?: CancelWatch;
  /** Queues the jobs that messages the agent could no longer take become (src/jobs/job-messages.ts); a local run gets none. */
  boss?: PgBoss;
  /** Agents started ahead of the jobs (src/jobs/warm-agents.ts); without it, each job starts its own. */
  warmAgents?: WarmAgents;
  /**
   * Called once the job's row has ended, beside its last progress writes (which GitHub
   * paces, seconds under load), not after them: a pipeline step's run moves on at once.
   */
  onEnded?(job: Job): Promise<void>;
  now?: () => Date;
}

/** Thrown to hand a job back to the queue, which retries it with backoff. */
export class RetryLater extends Error {
  override name = "RetryLater";
}

/**
 * One job, start to finish: prepare → explore → plan → build ⟲ verify → deliver. `signal` aborts when this
 * worker is stopping: the job is handed back to the queue for another worker.
 */
export async function runJob(deps: RunJobDeps, jobId: string, stopping: AbortSignal = new AbortController().signal): Promise<void> {
  const run = await beginRun(deps, jobId);
  if (!run) return;
  const host = run.host;
  const cancel = deps.cancellations?.watch(jobId) ?? new AbortController().signal;
  const signal = AbortSignal.any([stopping, cancel]);
  const sandboxes = new SandboxHolder(deps.sandboxes);
  const stopWork = () => void sandboxes.destroy();
  signal.addEventListener("abort", stopWork, { once: true });
  if (signal.aborted) stopWork();
  try {
    const pushed = readCheckpoint(run.job).pushed ?? (await buildAndPush(run, sandboxes, signal));
    await host.deliver(run, pushed);
  } catch (caught) {
    const error = diskFullError(caught) ?? asJobError(caught);
    await settleFailure(run, error, { stopping, cancel });
    await host.failed(run, error);
    // Messages for the agent that never came to read them run after it, as it would have; a cancel drops them.
    await handOnWaitingMessages(run, { drop: run.job.status === "cancelled" });
  } finally {
    signal.removeEventListener("abort", stopWork);
    deps.cancellations?.unwatch(jobId);
    await revokeGatewayAccess(run).catch((error: unknown) => run.log.warn({ err: error }, "revoking the job's gateway token failed"));
    await releaseWorkspace(run, sandboxes, stopping).catch((error: unknown) => run.log.warn({ err: error }, "releasing the sandbox failed"));
  }
  const ended = deps.onEnded?.(run.job).catch((error: unknown) => run.log.warn({ err: error }, "what follows the job's end failed"));
  await run.announced;
  if (await host.progress.finish(run.job)) await run.recordShown();
  await ended;
  run.log.info({ status: run.job.status, failureKind: run.job.failureKind, prUrl: run.job.prUrl, costUsd: run.job.totalCost }, "job finished");
}

async function buildAndPush(run: JobRun, sandboxes: SandboxHolder, signal: AbortSignal): Promise<PushedWork> {
  await run.host.prepare(run);
  const token = await run.step("prepare", () => run.gitToken());
  if (token !== null) run.addSecret(token);
  // What the agent is asked is gathered (GitHub reads, an issue's images) while the workspace is made; both end before the agents start.
  const [gathered, opened] = await Promise.allSettled([run.host.gatherTask(run), openWorkspace(run, sandboxes, token)]);
  if (gathered.status === "rejected") {
    if (opened.status === "fulfilled") await closeWorkRepository(opened.value.repository);
    throw gathered.reason;
  }
  if (opened.status === "rejected") throw opened.reason;
  const { sandbox, repository, commit, continueSession, warm } = opened.value;
  try {
    return await buildIn(run, { sandbox, repository, commit, token, signal, ...(continueSession ? { continueSession } : {}), ...(warm ? { warm } : {}) });
  } finally {
    await closeWorkRepository(repository);
  }
}

async function buildIn(
  run: JobRun,
  input: { sandbox: Sandbox; repository: WorkRepository; commit: string; token: string | null; signal: AbortSignal; continueSession?: string; warm?: WarmAgent },
): Promise<PushedWork> {
  const { sandbox, repository, token, signal, continueSession, warm } = input;
  const saved = readCheckpoint(run.job);
  // Explore's map is made on the worker, from the commit just checked out, beside all that follows until explore needs it.
  const mapping = saved.explore ? null : mapForExplore(run, repository, input.commit);
  mapping?.catch(() => {});
  // opencode takes a second or more to start (a warm agent's has): let it boot while
  // dependencies install. If anything below fails first, destroying the sandbox stops it.
  const gatewayToken = await run.step("prepare", () => grantGatewayToken(run, warm));
  const serverStarting = agentServerFor({ settings: run.deps.settings, provider: run.deps.sandboxes, sandbox, gatewayToken, ...(warm ? { warm } : {}) });
  serverStarting.catch(() => {});
  const project = await run.step("prepare", () => detectProjectIn(sandbox));
  const checks = checksOf(project);
  // The read-only agents (explore, plan) need neither the dependencies nor the checks that
  // fail already: those are made ready while they read, and the build waits for them.
  const readying = run.step("prepare", async () => {
    await installDependencies(run, sandbox, project.install);
    return baselineFailures(run, sandbox, checks);
  });
  readying.catch(() => {});
  // Saved work is re-applied on the fresh checkout, after the baseline (which is of the base commit); without it (too large to keep), building starts over.
  const resumedBuild = saved.build?.patch != null ? saved.build : undefined;
  if (resumedBuild?.patch) {
    await readying;
    await run.step("prepare", () => applyPatch(sandbox, resumedBuild.patch!));
  }
  await run.step("prepare", () => run.host.attach(run, sandbox));
  const server = await run.step("explore", () => serverStarting);
  let build: BuildState;
  try {
    const report = saved.explore?.report ?? (await run.step("explore", () => explore(run, mapping!, server, signal)));
    const steps = saved.plan ?? (await run.step("plan", () => plan(run, server, report, signal)));
    const failingAtBaseline = await readying;
    build = await buildUntilGreen(run, { sandbox, server, project, checks, failingAtBaseline, plan: steps, report, signal, ...(continueSession ? { continueSession } : {}) }, resumedBuild);
  } finally {
    // Nothing of the agent's may still write to the workspace while its work is taken out, and nothing may use the models after.
    await server.stop();
    await revokeGatewayAccess(run);
  }
  return run.step("deliver", async () => {
    // The job now takes no more messages (the webhook sees the phase): those not read yet become jobs of their own.
    await handOnWaitingMessages(run, { drop: false });
    return run.host.publish(run, sandbox, { repository, token, build });
  });
}

async function handOnWaitingMessages(run: JobRun, options: { drop: boolean }): Promise<void> {
  if (!run.deps.boss) return;
  const job = await handOnMessages(run.deps.pool, run.deps.boss, run.job.id, options);
  if (!job) return;
  run.job = job;
  const handled = job.messages.filter((message) => message.outcome === (options.drop ? "dropped" : "follow_up"));
  await run.event("messages", `${handled.length} message(s) the agent did not read ${options.drop ? "dropped with the cancelled job" : "queued as jobs of their own"}`);
  run.host.progress.update(job, { force: true });
}

/** Mark the job running (a new attempt), after making sure its host shows it. Null when there is nothing to run. */
/** The checkpoint's phases, in order: a job with any of them skips what they did. */
const RESUMABLE_PHASES = ["explore", "plan", "build", "pushed"] as const;

/**
 * Start the job on its base commit, and announce it beside its work: whoever announces it
 * (the web process on the webhook, or this worker, now, for a job nobody else announces:
 * a pipeline's step, an API task) reads and records the base first, then makes the comment
 * and the check run GitHub lets an app write only about a second apart. So the job waits
 * only for the base (up to two seconds): `underway`, it then finishes the announcement
 * beside its work. A process that died before the base leaves the whole announcement to
 * this one. A host that shows jobs nowhere else (a local run) announces before the start.
 */
async function announceOrBase(host: JobHost, db: Db, queued: Job): Promise<{ job: Job; underway: boolean }> {
  if (!host.announcedElsewhere) return { job: await host.announce(queued.id), underway: false };
  let settled = false;
  const announcing = host.announcedElsewhere(queued)
    ? null
    : host.announce(queued.id).finally(() => {
        settled = true;
      });
  // Its failure is the job's only if the job waits for it (below); otherwise the announcement beside the work reports it.
  announcing?.catch(() => {});
  for (let polls = 0; polls < 40; polls++) {
    const job = await findJob(db, queued.id);
    if (!job) throw new Error(`job ${queued.id} vanished before it started`);
    if (job.baseSha !== null) return { job, underway: true };
    // Over before a base was recorded (it failed reading it, or the host records none): its outcome is the job's.
    if (settled) break;
    await delay(50);
  }
  return { job: await (announcing ?? host.announce(queued.id)), underway: false };
}

async function beginRun(deps: RunJobDeps, jobId: string): Promise<JobRun | null> {
  const now = deps.now ?? (() => new Date());
  const existing = await findJob(deps.db, jobId);
  if (!existing || hasEnded(existing.status)) return null;
  const log = deps.log.child({ jobId });
  const host = await deps.hostFor(existing, log);
  const { job: announced, underway } = await announceOrBase(host, deps.db, existing);
  // What the job was given (a follow-up's task, an issue's context, a CI round's errors) is kept too, but only finished phases make it a resumed job.
  const saved = readCheckpoint(announced);
  const finished = RESUMABLE_PHASES.filter((phase) => saved[phase] !== undefined);
  const resumed = finished.length > 0;
  // Conditional: a `/agent cancel` may have ended the job since it was read.
  const job = await claimJob(deps.db, jobId, {
    status: "running",
    startedAt: announced.startedAt ?? now(),
    attempts: announced.attempts + 1,
    resumedFromCheckpoint: announced.resumedFromCheckpoint || resumed,
    failureKind: null,
    failureMessage: null,
  });
  if (!job) {
    // It ended (a cancel) while this worker was getting ready: make sure its host shows that.
    const ended = await findJob(deps.db, jobId);
    if (ended) await host.showState(ended);
    return null;
  }
  const run = new JobRun(deps, job, host, log, now);
  if (underway) run.finishAnnouncing();
  if (job.cancelRequestedAt !== null) {
    // Asked to cancel while its previous worker ran it, and that worker died.
    await run.fail(new JobError("cancelled", `cancelled by ${job.cancelRequestedBy ?? "someone"}`));
    await run.announced;
    if (await host.progress.finish(run.job)) await run.recordShown();
    return null;
  }
  // Its request goes out ahead of the progress writes below (JobRun.gitToken); a job whose work is already pushed needs none.
  if (!saved.pushed) run.gitToken().catch(() => {});
  log.info({ attempt: job.attempts, resumed }, "job started");
  if (resumed) await run.event("resumed", `resuming from the checkpoint after: ${finished.join(", ")}`);
  host.progress.update(job, { force: true });
  return run;
}

/** A failure either ends the job (reported on GitHub) or hands it back to the queue. */
async function settleFailure(run: JobRun, error: JobError, signals: { stopping: AbortSignal; cancel: AbortSignal }): Promise<void> {
  if (signals.cancel.aborted) {
    const reason: unknown = signals.cancel.reason;
    await run.fail(new JobError("cancelled", reason instanceof CancelRequested ? reason.message : "cancelled", { cause: error }));
    return;
  }
  if (signals.stopping.aborted) {
    await run.handBack("the worker is stopping; another worker will continue this job");
    throw new RetryLater("worker stopping", { cause: error });
  }
  if (error.retryable && run.job.attempts < run.deps.settings.maxAttempts) {
    await run.handBack(`temporary failure, will retry: ${error.message}`);
    throw new RetryLater(error.message, { cause: error });
  }
  await run.fail(error);
}

