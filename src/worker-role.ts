import path from "node:path";
import type { Probot } from "probot";
import type { Logger } from "pino";
import type { PgBoss } from "pg-boss";
import { and, eq, gt, inArray, or } from "drizzle-orm";
import type { Config } from "./config/load-config.ts";
import { versionOf } from "./config/gateway-providers.schema.ts";
import { egressAllowListOf, operatorEgressPatternsOf } from "./config/sandbox-policy.ts";
import { redactKnownTokens } from "./redact.ts";
import { createRepositoryTokenIssuer } from "./github/app-auth.ts";
import { createRoleLookup } from "./github/authorize-sender.ts";
import { githubHost } from "./github/host/github-host.ts";
import { settleAndShowStep, showJobChange } from "./github/show/show-job-change.ts";
import { handOnMessagesOfEnded } from "./jobs/job-messages.ts";
import { createCancelWatch } from "./jobs/cancel-watch.ts";
import { sandboxesHeld } from "./jobs/parked-sandbox.ts";
import { loopSettingsOf } from "./jobs/loop-settings.ts";
import { runJob, type WorkerSettings } from "./jobs/run-job.ts";
import { startWorker } from "./queue/worker.ts";
import { reapE2bSandboxes } from "./sandbox/e2b-reap.ts";
import { createE2bSandboxProvider } from "./sandbox/e2b-sandbox.ts";
import { createLocalSandboxProvider } from "./sandbox/local-sandbox.ts";
import { createMirrorCache } from "./sandbox/mirror-cache.ts";
import type { SandboxProvider } from "./sandbox/sandbox.ts";
import { reapLocalSandboxes, removeEarlierAttempts } from "./sandbox/reap-local.ts";
import type { Database } from "./store/database.ts";
import { findJob, updateJob } from "./store/job-queries.ts";
import { jobs, type Job } from "./store/jobs.sql.ts";
import { startWarmAgents } from "./jobs/warm-agents.ts";
import { checkOutForSpare } from "./jobs/open-workspace.ts";
import { issueSpareGatewayToken, revokeGatewayToken } from "./gateway/gateway-tokens.ts";

/** The worker role: clear what a dead predecessor left, then take jobs from the queue. `close` ends what it keeps ready (its warm agents) once it takes no more jobs. */
export async function startWorkerRole(input: {
  config: Config;
  log: Logger;
  /** Where sandboxes come from; default: the one SANDBOX_PROVIDER names (tests pass their own). */
  sandboxes?: SandboxProvider | undefined;
  appId: number;
  database: Database;
  boss: PgBoss;
  ProbotWithAuth: typeof Probot;
  signal: AbortSignal;
  /** This process's web role, if it has one: the default address of the model gateway. */
  webUrl: string | null;
}): Promise<{ close(): Promise<void> }> {
  const { config, log, database } = input;
  const sandboxRoot = path.join(config.dataDir, "sandboxes");
  // Running, or ended moments ago: a job parks or destroys its sandbox just after it ends,
  // and a reaper passing in between must not take the sandbox from under it.
  const runningOf = async (jobIds: string[]) => {
    const justNow = new Date(Date.now() - 5 * 60_000);
    const rows = await database.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(inArray(jobs.id, jobIds), or(eq(jobs.status, "running"), gt(jobs.finishedAt, justNow))));
    return new Set(rows.map((row) => row.id));
  };
  const settings = workerSettingsOf(config, input.appId, input.webUrl);
  const e2b = !input.sandboxes && config.env.SANDBOX_PROVIDER === "e2b";
  // Sandboxes a dead worker left, and parked ones past their keep time: at start (E2B's
  // listing is a network call, so it does not hold the start up) and every ten minutes.
  const reap = async () => {
    const reaped = e2b
      ? await reapE2bSandboxes({
          apiKey: config.env.E2B_API_KEY!,
          isJobEnded: async (jobId) => !(await runningOf([jobId])).has(jobId),
          isHeld: async (sandboxId) => (await sandboxesHeld(database.db, [sandboxId], config.env.AGENT_KEEP_WORKSPACE_HOURS)).has(sandboxId),
          keepPausedMs: config.env.AGENT_KEEP_WORKSPACE_HOURS * 3_600_000,
        })
      : await reapLocalSandboxes(sandboxRoot, runningOf, (names) => sandboxesHeld(database.db, names, config.env.AGENT_KEEP_WORKSPACE_HOURS));
    if (reaped.length > 0) log.info({ reaped }, "removed sandboxes nobody will use again");
  };
  // Work repositories a dead worker left (a job closes its own): nothing in them is needed once the job is not running.
  const workDir = path.join(config.dataDir, "work");
  const reapWorkRepositories = () => reapLocalSandboxes(workDir, runningOf);
  const reapQuietly = () => Promise.all([reap(), reapWorkRepositories()]).catch((error: unknown) => log.warn({ err: error }, "reaping sandboxes failed; the next round tries again"));
  if (e2b) void reapQuietly();
  else await reapQuietly();
  const reaper = setInterval(() => void reapQuietly(), 10 * 60_000).unref();
  input.signal.addEventListener("abort", () => clearInterval(reaper), { once: true });
  const probot = new input.ProbotWithAuth();
  const cancellations = createCancelWatch(database.db, { log });
  input.signal.addEventListener("abort", () => cancellations.stop(), { once: true });
  const repositoryToken = createRepositoryTokenIssuer(probot);
  const lookUpRole = createRoleLookup();
  const pipelines = { pool: database.pool, db: database.db, boss: input.boss, octokitFor: (installationId: number) => probot.auth(installationId), log };
  // A pipeline step that ended moves its run on: the next steps start, GitHub is shown the run.
  const settleStepOf = async (jobId: string) => {
    const job = await findJob(database.db, jobId);
    if (job) await settleAndShowStep(pipelines, job).catch((error: unknown) => log.warn({ err: error, jobId }, "advancing the pipeline run failed; the minute's sweep will"));
  };
  const sandboxes =
    input.sandboxes ??
    (e2b
      ? createE2bSandboxProvider({ apiKey: config.env.E2B_API_KEY!, template: config.env.E2B_TEMPLATE, egress: { allow: egressAllowListOf(config, settings.gateway?.url ?? null) }, log })
      : createLocalSandboxProvider({ rootDir: sandboxRoot, dataDir: config.dataDir, secretFiles: secretFilesOf(config), unconfined: config.env.ALLOW_UNCONFINED_SANDBOX }));
  // Made after the reaper's first round above: it keeps a live worker's spares, but only once they exist.
  const warmAgents = startWarmAgents({
    provider: sandboxes,
    count: Math.min(config.env.AGENT_WARM_AGENTS, config.env.WORKER_CONCURRENCY),
    settings,
    log,
    tokens: { issue: (ttlMs) => issueSpareGatewayToken(database.db, { ttlMs }), revoke: (tokenHash) => revokeGatewayToken(database.db, tokenHash) },
    checkOut: (sandbox, seed) => checkOutForSpare(sandbox, seed, { workDir, botEmail: settings.botEmail }),
  });
  const deps = {
    pool: database.pool,
    db: database.db,
    hostFor: async (job: Job, jobLog: Logger) =>
      githubHost({
        pool: database.pool,
        octokit: await probot.auth(job.installationId),
        repositoryToken: () => repositoryToken(job.installationId, job.repoId),
        lookUpRole,
        issueContext: config.env.AGENT_ISSUE_CONTEXT,
        appId: input.appId,
        log: jobLog,
        now: () => new Date(),
      }),
    sandboxes,
    warmAgents,
    settings,
    cancellations,
    boss: input.boss,
    // Beside the sandboxes, not under them (the reaper empties that directory); never visible inside a sandbox.
    mirrors: createMirrorCache({ dir: path.join(config.dataDir, "mirrors"), log }),
    workDir,
    log,
  };
  await startWorker(input.boss, {
    concurrency: config.env.WORKER_CONCURRENCY,
    perInstallation: config.env.AGENT_MAX_JOBS_PER_INSTALLATION,
    log,
    handle: async (jobId) => {
      if (!e2b) {
        const removed = (await Promise.all([removeEarlierAttempts(sandboxRoot, jobId), removeEarlierAttempts(workDir, jobId)])).flat();
        if (removed.length > 0) log.info({ jobId, removed }, "removed what an earlier attempt of the job left on this machine");
      }
      // A step's run moves on as the job ends (beside its last GitHub writes); one that ended before it ran (a cancel) is settled here.
      let settled = false;
      const onEnded = async () => {
        settled = true;
        await settleStepOf(jobId);
      };
      await runJob({ ...deps, onEnded }, jobId, input.signal);
      if (!settled) await settleStepOf(jobId);
    },
    onGiveUp: async (jobId, error) => {
      const message = redactKnownTokens(error instanceof Error ? error.message : String(error));
      const job = await updateJob(database.db, jobId, { status: "failed", failureKind: "internal", failureMessage: message, finishedAt: new Date() });
      await showJobChange(pipelines, await handOnMessagesOfEnded(database.pool, input.boss, job));
    },
  });
  return { close: () => warmAgents.close() };
}

/** The app's secrets on disk, masked in every local sandbox: its private key, and Probot's `.env` in the working directory. */
function secretFilesOf(config: Config): string[] {
  return [config.env.PRIVATE_KEY_PATH, ".env"].filter((file): file is string => file !== undefined).map((file) => path.resolve(file));
}

function workerSettingsOf(config: Config, appId: number, webUrl: string | null): WorkerSettings {
  const env = config.env;
  const gatewayUrl = env.AGENT_GATEWAY_URL ?? webUrl;
  return {
    ...loopSettingsOf(config),
    botEmail: `${appId}+running-agent[bot]@users.noreply.github.com`,
    keepWorkspaceHours: env.AGENT_KEEP_WORKSPACE_HOURS,
    egressPatterns: operatorEgressPatternsOf(config),
    gateway:
      config.gatewayProviders && gatewayUrl
        ? { url: gatewayUrl, providers: Object.fromEntries(Object.entries(config.gatewayProviders).map(([name, provider]) => [name, { version: versionOf(provider) }])) }
        : null,
  };
}
