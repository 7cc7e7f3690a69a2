import path from "node:path";
import { Probot, ProbotOctokit, Server } from "probot";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { createApiHandler } from "./api/routes.ts";
import { versionOf } from "./config/gateway-providers.schema.ts";
import { createModelGateway } from "./gateway/model-gateway.ts";
import { redactKnownTokens } from "./context/redact.ts";
import { ConfigError, type Config } from "./config/load-config.ts";
import { createRepositoryTokenIssuer } from "./github/app-auth.ts";
import { createRoleLookup } from "./github/authorize-sender.ts";
import { redeliverFailedDeliveries } from "./github/redeliver-failed.ts";
import { showJobState } from "./github/show-job-state.ts";
import { registerTriggers } from "./github/triggers.ts";
import { createCancelWatch } from "./jobs/cancel-watch.ts";
import { sandboxesHeld } from "./jobs/parked-sandbox.ts";
import { runJob, type WorkerSettings } from "./jobs/run-job.ts";
import { startQueue } from "./queue/boss.ts";
import { releaseAbandonedJobs } from "./queue/release-abandoned.ts";
import { scheduleRedelivery, scheduleRelease } from "./queue/schedules.ts";
import { startWorker } from "./queue/worker.ts";
import { findFreePort } from "./sandbox/free-port.ts";
import { createLocalSandboxProvider } from "./sandbox/local-sandbox.ts";
import { createMirrorCache } from "./sandbox/mirror-cache.ts";
import { reapLocalSandboxes } from "./sandbox/reap-local.ts";
import { reapE2bSandboxes } from "./sandbox/e2b-reap.ts";
import { createE2bSandboxProvider } from "./sandbox/e2b-sandbox.ts";
import { checkSandboxPolicy, egressAllowListOf, operatorEgressPatternsOf } from "./config/sandbox-policy.ts";
import { jobs, type Job } from "./store/jobs.sql.ts";
import { and, eq, inArray } from "drizzle-orm";
import type { SandboxProvider } from "./sandbox/sandbox.ts";
import { openDatabase, type Database } from "./store/database.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./store/embedded-postgres.ts";
import { updateJob } from "./store/job-queries.ts";
import { migrateDatabase } from "./store/migrate.ts";

export interface StartOptions {
  config: Config;
  log: Logger;
  /** Octokit class for GitHub calls; tests pass one with retries and throttling off. */
  Octokit?: typeof ProbotOctokit;
  sandboxes?: SandboxProvider;
  /** First delay before a job is retried, in seconds (default 5; tests shorten it). */
  retryDelaySeconds?: number;
}

export interface RunningApp {
  /** Base URL of the web role; null for a worker-only process. */
  url: string | null;
  database: Database;
  boss: PgBoss;
  stop(): Promise<void>;
}

/**
 * Start the app: Postgres (given or embedded) → migrations → queue → web and/or worker.
 * Everything is torn down in reverse by `stop()`.
 */
export async function startApp(options: StartOptions): Promise<RunningApp> {
  const { config, log } = options;
  const app = config.app;
  if (!app) throw new ConfigError("APP_ID is not set: run `npm start` without ROLE to register the GitHub App first.");
  checkSandboxPolicy(config);
  const embedded = await startDatabaseServer(config, log);
  const database = openDatabase(embedded?.url ?? config.env.DATABASE_URL!);
  await migrateDatabase(database.pool);
  const timeoutMs = config.env.AGENT_TIMEOUT_MINUTES * 60_000;
  const boss = await startQueue(
    embedded?.url ?? config.env.DATABASE_URL!,
    {
      jobTimeoutSeconds: Math.ceil(timeoutMs / 1000),
      heartbeatSeconds: config.env.AGENT_HEARTBEAT_SECONDS,
      ...(options.retryDelaySeconds ? { retryDelaySeconds: options.retryDelaySeconds } : {}),
    },
    log,
  );
  const ProbotWithAuth = Probot.defaults({
    appId: app.appId,
    privateKey: app.privateKey,
    secret: app.webhookSecret,
    baseUrl: config.githubApiUrl,
    log: log.child({ name: "probot" }),
    ...(options.Octokit ? { Octokit: options.Octokit } : {}),
  });
  const background = new Set<Promise<unknown>>();
  // Aborted at shutdown: running jobs stop their sandboxes and go back to the queue.
  const stopping = new AbortController();
  const role = config.env.ROLE;
  const server = role === "worker" ? null : await startWeb(config, log, ProbotWithAuth, { database, boss, background });
  if (server) {
    const probot = new ProbotWithAuth();
    await scheduleRedelivery(boss, async () => redeliverFailedDeliveries(await probot.auth(), database.db, log), log);
    await scheduleRelease(
      boss,
      async () => {
        for (const job of await releaseAbandonedJobs(database, boss)) await showJobState(database.pool, await probot.auth(job.installationId), job, log);
      },
      log,
    );
  }
  if (role !== "web") await startWorkerRole({ options, appId: app.appId, database, boss, ProbotWithAuth, signal: stopping.signal, webUrl: server?.url ?? null });
  log.info({ role, url: server?.url ?? null }, "Running Agent started");
  let stopped: Promise<void> | undefined;
  return {
    url: server?.url ?? null,
    database,
    boss,
    stop() {
      stopped ??= (async () => {
        await server?.server.stop();
        await Promise.allSettled([...background]);
        stopping.abort();
        await boss.stop({ graceful: true, timeout: 20_000 });
        await database.close();
        await embedded?.stop();
      })();
      return stopped;
    },
  };
}

async function startDatabaseServer(config: Config, log: Logger): Promise<EmbeddedDatabase | null> {
  if (config.env.DATABASE_URL) return null;
  if (config.env.ROLE !== "all") {
    throw new ConfigError(`ROLE=${config.env.ROLE} needs DATABASE_URL: the embedded Postgres serves a single process, so separate web and worker processes must share a database.`);
  }
  return startEmbeddedPostgres(config.dataDir, log);
}

/** The worker role: clear what a dead predecessor left, then take jobs from the queue. */
async function startWorkerRole(input: {
  options: StartOptions;
  appId: number;
  database: Database;
  boss: PgBoss;
  ProbotWithAuth: typeof Probot;
  signal: AbortSignal;
  /** This process's web role, if it has one: the default address of the model gateway. */
  webUrl: string | null;
}): Promise<void> {
  const { options, database } = input;
  const { config, log } = options;
  const sandboxRoot = path.join(config.dataDir, "sandboxes");
  const runningOf = async (jobIds: string[]) => {
    const rows = await database.db.select({ id: jobs.id }).from(jobs).where(and(inArray(jobs.id, jobIds), eq(jobs.status, "running")));
    return new Set(rows.map((row) => row.id));
  };
  const settings = workerSettingsOf(config, input.appId, input.webUrl);
  const e2b = !options.sandboxes && config.env.SANDBOX_PROVIDER === "e2b";
  const reaped = e2b
    ? await reapE2bSandboxes({
        apiKey: config.env.E2B_API_KEY!,
        isJobEnded: async (jobId) => !(await runningOf([jobId])).has(jobId),
        isHeld: async (sandboxId) => (await sandboxesHeld(database.db, [sandboxId], config.env.AGENT_KEEP_WORKSPACE_HOURS)).has(sandboxId),
        keepPausedMs: config.env.AGENT_KEEP_WORKSPACE_HOURS * 3_600_000,
      }).catch((error: unknown) => {
        log.warn({ err: error }, "listing E2B sandboxes to reap failed; they end at their own timeout");
        return [];
      })
    : await reapLocalSandboxes(sandboxRoot, runningOf, (names) => sandboxesHeld(database.db, names, config.env.AGENT_KEEP_WORKSPACE_HOURS));
  if (reaped.length > 0) log.info({ reaped }, "removed sandboxes left behind by a stopped worker");
  const probot = new input.ProbotWithAuth();
  const cancellations = createCancelWatch(database.db, { log });
  input.signal.addEventListener("abort", () => cancellations.stop(), { once: true });
  const deps = {
    pool: database.pool,
    db: database.db,
    installationOctokit: (installationId: number) => probot.auth(installationId),
    repositoryToken: createRepositoryTokenIssuer(probot),
    sandboxes:
      options.sandboxes ??
      (e2b
        ? createE2bSandboxProvider({ apiKey: config.env.E2B_API_KEY!, template: config.env.E2B_TEMPLATE, egress: { allow: egressAllowListOf(config, settings.gateway?.url ?? null) }, log })
        : createLocalSandboxProvider({ rootDir: sandboxRoot })),
    settings,
    lookUpRole: createRoleLookup(),
    cancellations,
    // For the local provider (the default): beside the sandboxes, not under them (the reaper empties that directory), and on the
    // same file system, so that clones hard-link the mirror's objects instead of copying them.
    ...(options.sandboxes || e2b ? {} : { mirrors: createMirrorCache({ dir: path.join(config.dataDir, "mirrors"), log }) }),
    log,
  };
  await startWorker(input.boss, {
    concurrency: config.env.WORKER_CONCURRENCY,
    perInstallation: config.env.AGENT_MAX_JOBS_PER_INSTALLATION,
    log,
    handle: (jobId) => runJob(deps, jobId, input.signal),
    onGiveUp: async (jobId, error) => {
      const message = redactKnownTokens(error instanceof Error ? error.message : String(error));
      const job = await updateJob(database.db, jobId, { status: "failed", failureKind: "internal", failureMessage: message, finishedAt: new Date() });
      await showJobState(database.pool, await probot.auth(job.installationId), job, log);
    },
  });
}

function workerSettingsOf(config: Config, appId: number, webUrl: string | null): WorkerSettings {
  const env = config.env;
  const gatewayUrl = env.AGENT_GATEWAY_URL ?? webUrl;
  return {
    models: { explore: env.AGENT_MODEL_EXPLORE, plan: env.AGENT_MODEL_PLAN, build: env.AGENT_MODEL_BUILD },
    opencodeExtraConfig: config.opencodeExtraConfig,
    maxCostUsd: env.AGENT_MAX_COST_USD,
    maxIterations: env.AGENT_MAX_ITERATIONS,
    debugSimilarity: env.AGENT_DEBUG_SIMILARITY,
    timeoutMs: env.AGENT_TIMEOUT_MINUTES * 60_000,
    limits: { timeoutMs: env.AGENT_TIMEOUT_MINUTES * 60_000 + 60_000, memoryMb: env.SANDBOX_MEMORY_MB, cpuSeconds: env.SANDBOX_CPU_SECONDS },
    maxAttempts: 3,
    botEmail: `${appId}+running-agent[bot]@users.noreply.github.com`,
    keepWorkspaceHours: env.AGENT_KEEP_WORKSPACE_HOURS,
    egressPatterns: operatorEgressPatternsOf(config),
    gateway:
      config.gatewayProviders && gatewayUrl
        ? { url: gatewayUrl, providers: Object.fromEntries(Object.entries(config.gatewayProviders).map(([name, provider]) => [name, { version: versionOf(provider) }])) }
        : null,
  };
}

async function startWeb(
  config: Config,
  log: Logger,
  ProbotWithAuth: typeof Probot,
  deps: { database: Database; boss: PgBoss; background: Set<Promise<unknown>> },
): Promise<{ server: Server; url: string }> {
  // Probot's Server reads port 0 as "unset" and takes 3000; ask the kernel for a free one instead.
  const port = config.env.PORT === 0 ? await findFreePort(config.env.HOST) : config.env.PORT;
  const server = new Server({ Probot: ProbotWithAuth, host: config.env.HOST, port, log: log.child({ name: "server" }) });
  const lookUpRole = createRoleLookup();
  await server.load((probot, { addHandler }) => {
    registerTriggers(probot, {
      pool: deps.database.pool,
      db: deps.database.db,
      boss: deps.boss,
      lookUpRole,
      background: deps.background,
      forkPullRequests: config.env.AGENT_FORK_PULL_REQUESTS,
    });
    const showOnGitHub = (job: Job) => {
      const shown = probot.auth(job.installationId).then((octokit) => showJobState(deps.database.pool, octokit, job, log));
      const tracked = shown.catch((error: unknown) => log.warn({ err: error, jobId: job.id }, "showing the job's new state on GitHub failed")).finally(() => deps.background.delete(tracked));
      deps.background.add(tracked);
    };
    if (config.gatewayProviders) addHandler(createModelGateway({ db: deps.database.db, providers: config.gatewayProviders, log: log.child({ name: "gateway" }) }));
    addHandler(createApiHandler({ db: deps.database.db, pool: deps.database.pool, boss: deps.boss, showOnGitHub, apiToken: config.env.API_TOKEN, role: config.env.ROLE, log }));
  });
  await server.start();
  const host = config.env.HOST === "0.0.0.0" ? "127.0.0.1" : config.env.HOST;
  return { server, url: `http://${host}:${port}` };
}
