import type { ProbotOctokit } from "probot";
import type pg from "pg";
import type { Logger } from "pino";
import { ensureAnnounced } from "../github/announce-job.ts";
import { showJobState } from "../github/show-job-state.ts";
import type { RoleLookup } from "../github/authorize-sender.ts";
import { mergeDeep, type JsonObject } from "../agent/deep-merge.ts";
import { buildOpencodeConfig } from "../agent/opencode-config.ts";
import { startOpencodeServer } from "../agent/opencode-server.ts";
import { applyPatch } from "../sandbox/git-workspace.ts";
import type { MirrorCache } from "../sandbox/mirror-cache.ts";
import type { SandboxLimits, SandboxProvider } from "../sandbox/sandbox.ts";
import type { Db } from "../store/database.ts";
import { claimJob, findJob } from "../store/job-queries.ts";
import { hasEnded } from "../store/jobs.sql.ts";
import { detectProjectIn } from "../verify/detect-project-in.ts";
import { checksOf } from "../verify/run-checks.ts";
import { buildUntilGreen } from "./build-loop.ts";
import { readCheckpoint, type BuildState, type PushedWork } from "./checkpoint.ts";
import { commitAndPush, openPullRequestFor } from "./deliver.ts";
import { CancelRequested, type CancelWatch } from "./cancel-watch.ts";
import { asJobError, JobError } from "./errors.ts";
import { prepareFollowUpTask, replyToReviewThreads } from "./follow-up.ts";
import { grantGatewayAccess, revokeGatewayAccess, type GatewaySettings } from "./gateway-access.ts";
import { proposePatch } from "./propose-patch.ts";
import { resolveBase } from "./resolve-base.ts";
import type { FollowUpOutcome } from "./follow-up-task.ts";
import { createJobReporter } from "./job-reporter.ts";
import { JobRun } from "./job-run.ts";
import { baselineFailures, installDependencies, openWorkspace, releaseWorkspace } from "./open-workspace.ts";
import { SandboxHolder } from "./sandbox-holder.ts";
import { explore, plan } from "./think-steps.ts";

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
  /** An Octokit authenticated as the installation, for comments, check runs and pull requests. */
  installationOctokit(installationId: number): Promise<ProbotOctokit>;
  /** A token for git only: this one repository, `contents: write`, nothing else. */
  repositoryToken(installationId: number, repoId: number): Promise<string>;
  sandboxes: SandboxProvider;
  settings: WorkerSettings;
  log: Logger;
  /** Who may be quoted to the agent: discussion from people without write access is left out. */
  lookUpRole: RoleLookup;
  /** Bare mirrors of the repositories on this host (local provider): a second clone takes a fraction of the first. */
  mirrors?: MirrorCache;
  /** Tells a running job that someone asked to cancel it; without it, jobs cannot be cancelled while they run. */
  cancellations?: CancelWatch;
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
  const begun = await beginRun(deps, jobId);
  if (!begun) return;
  const { run, octokit } = begun;
  const cancel = deps.cancellations?.watch(jobId) ?? new AbortController().signal;
  const signal = AbortSignal.any([stopping, cancel]);
  const sandboxes = new SandboxHolder(deps.sandboxes);
  const stopWork = () => void sandboxes.destroy();
  signal.addEventListener("abort", stopWork, { once: true });
  if (signal.aborted) stopWork();
  try {
    const pushed = readCheckpoint(run.job).pushed ?? (await buildAndPush(run, octokit, sandboxes, signal));
    if (run.job.followUp) {
      await run.finish("succeeded", { prUrl: run.job.followUp.pullRequest.url, prNumber: run.job.followUp.pullRequest.number });
      // A fork's threads are answered by the patch comment: there is no commit to point at.
      if (!run.job.followUp.fork) await replyToReviewThreads(run, octokit, { kind: "pushed", commitSha: pushed.sha, checksPassed: pushed.checksPassed, summary: pushed.summary });
    } else {
      const pullRequest = await run.step("deliver", () => openPullRequestFor(run, octokit, pushed));
      await run.finish("succeeded", { prUrl: pullRequest.url, prNumber: pullRequest.number });
    }
  } catch (caught) {
    const error = asJobError(caught);
    await settleFailure(run, error, { stopping, cancel });
    if (run.job.followUp) await replyToReviewThreads(run, octokit, followUpFailureOf(run, error)).catch((replyError: unknown) => run.log.warn({ err: replyError }, "replying in the review threads failed"));
  } finally {
    signal.removeEventListener("abort", stopWork);
    deps.cancellations?.unwatch(jobId);
    await revokeGatewayAccess(run).catch((error: unknown) => run.log.warn({ err: error }, "revoking the job's gateway token failed"));
    await releaseWorkspace(run, sandboxes, stopping).catch((error: unknown) => run.log.warn({ err: error }, "releasing the sandbox failed"));
  }
  await run.reporter.finish(run.job);
  run.log.info({ status: run.job.status, failureKind: run.job.failureKind, prUrl: run.job.prUrl, costUsd: run.job.totalCost }, "job finished");
}

async function buildAndPush(run: JobRun, octokit: ProbotOctokit, sandboxes: SandboxHolder, signal: AbortSignal): Promise<PushedWork> {
  await run.step("prepare", () => resolveBase(run, octokit));
  await run.step("prepare", () => prepareFollowUpTask(run, octokit));
  const job = run.job;
  const saved = readCheckpoint(job);
  const token = await run.step("prepare", () => run.deps.repositoryToken(job.installationId, job.repoId));
  run.addSecret(token);
  const { sandbox, gitConfig, continueSession } = await openWorkspace(run, octokit, sandboxes, token);
  // opencode takes a second or more to start: let it boot while dependencies install. If
  // anything below fails first, destroying the sandbox stops it.
  const gatewayAccess = await run.step("prepare", () => grantGatewayAccess(run));
  const serverStarting = startOpencodeServer(sandbox, { config: opencodeConfigOf(run.deps.settings, gatewayAccess), ...serverPlacementOf(run.deps.sandboxes) });
  serverStarting.catch(() => {});
  const project = await run.step("prepare", () => detectProjectIn(sandbox));
  await run.step("prepare", () => installDependencies(run, sandbox, project.install));
  const checks = checksOf(project);
  const failingAtBaseline = await run.step("prepare", () => baselineFailures(run, sandbox, checks));
  // Saved work is re-applied on the fresh checkout; without it (too large to keep), building starts over.
  const resumedBuild = saved.build?.patch != null ? saved.build : undefined;
  if (resumedBuild?.patch) await run.step("prepare", () => applyPatch(sandbox, resumedBuild.patch!));
  const server = await run.step("explore", () => serverStarting);
  let build: BuildState;
  try {
    const report = saved.explore?.report ?? (await run.step("explore", () => explore(run, sandbox, server, signal)));
    const steps = saved.plan ?? (await run.step("plan", () => plan(run, server, report, signal)));
    build = await buildUntilGreen(run, { sandbox, server, project, checks, failingAtBaseline, plan: steps, report, signal, ...(continueSession ? { continueSession } : {}) }, resumedBuild);
  } finally {
    // No agent process may be alive while the worker pushes with a token, and none may use the models after.
    await server.stop();
    await revokeGatewayAccess(run);
  }
  if (job.followUp?.fork) return run.step("deliver", () => proposePatch(run, octokit, sandbox, build));
  return run.step("deliver", () => commitAndPush(run, sandbox, { gitConfig, token, build }));
}

/** Mark the job running (a new attempt), after making sure GitHub shows it. Null when there is nothing to run. */
async function beginRun(deps: RunJobDeps, jobId: string): Promise<{ run: JobRun; octokit: ProbotOctokit } | null> {
  const now = deps.now ?? (() => new Date());
  const existing = await findJob(deps.db, jobId);
  if (!existing || hasEnded(existing.status)) return null;
  const log = deps.log.child({ jobId });
  const octokit = await deps.installationOctokit(existing.installationId);
  const announced = await ensureAnnounced(deps.pool, octokit, jobId, now);
  const saved = readCheckpoint(announced);
  const resumed = Object.keys(saved).length > 0;
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
    // It ended (a cancel) while this worker was getting ready: make sure GitHub shows that.
    const ended = await findJob(deps.db, jobId);
    if (ended) await showJobState(deps.pool, octokit, ended, log);
    return null;
  }
  const run = new JobRun(deps, job, createJobReporter(octokit, log, { now }), log, now);
  if (job.cancelRequestedAt !== null) {
    // Asked to cancel while its previous worker ran it, and that worker died.
    await run.fail(new JobError("cancelled", `cancelled by ${job.cancelRequestedBy ?? "someone"}`));
    await run.reporter.finish(run.job);
    return null;
  }
  log.info({ attempt: job.attempts, resumed }, "job started");
  if (resumed) await run.event("resumed", `resuming from the checkpoint after: ${Object.keys(saved).join(", ")}`);
  run.reporter.update(job, { force: true });
  return { run, octokit };
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

/** What the review threads hear about a follow-up that ended without pushing. */
function followUpFailureOf(run: JobRun, error: JobError): FollowUpOutcome {
  if (error.kind === "no_changes") return { kind: "unchanged", summary: readCheckpoint(run.job).build?.summary ?? "" };
  return { kind: "failed", reason: `${run.redact(error.message)}. ${error.nextStep}` };
}


/**
 * Where opencode runs: on this host, the host's binary on a free loopback port; in an E2B
 * VM, the template's binary, reachable from the worker only through E2B's edge (0.0.0.0),
 * password-protected like every server of ours.
 */
function serverPlacementOf(provider: SandboxProvider): { binary?: string; hostname?: string; port?: number } {
  return provider.name === "e2b" ? { binary: "opencode", hostname: "0.0.0.0", port: 4096 } : {};
}

function opencodeConfigOf(settings: WorkerSettings, gatewayAccess: JsonObject | null) {
  const extra = gatewayAccess ? mergeDeep(settings.opencodeExtraConfig, gatewayAccess) : settings.opencodeExtraConfig;
  return buildOpencodeConfig({ models: settings.models, extra });
}
