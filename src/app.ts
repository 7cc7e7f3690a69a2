import { Probot, ProbotOctokit } from "probot";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { createCallerResolver } from "./api/caller.ts";
import { createJobWebSocketUpgrade } from "./api/job-websocket.ts";
import { createApiHandler } from "./api/routes.ts";
import { createCookieSealer } from "./api/session.ts";
import { ConfigError, type Config } from "./config/load-config.ts";
import { checkSandboxPolicy } from "./config/sandbox-policy.ts";
import { createModelGateway } from "./gateway/model-gateway.ts";
import { createRoleLookup } from "./github/authorize-sender.ts";
import { redeliverFailedDeliveries } from "./github/webhook/redeliver-failed.ts";
import { showStaleJobs } from "./github/show/show-job-state.ts";
import { registerTriggers } from "./github/webhook/triggers.ts";
import { startQueue } from "./queue/boss.ts";
import { releaseAbandonedJobs } from "./queue/release-abandoned.ts";
import { handOnMessagesOfEnded } from "./jobs/job-messages.ts";
import { stopTakingJobs } from "./queue/worker.ts";
import { scheduleRedelivery, scheduleRelease } from "./queue/schedules.ts";
import { settleAndShowForgottenSteps, showJobChange, showStaleRuns } from "./github/show/show-job-change.ts";
import { createSignInGitHub } from "./github/sign-in.ts";
import { createApiGitHub } from "./github/host/api-github.ts";
import { createGitHubCallStop } from "./github/calls-at-stop.ts";
import { MAX_WEBHOOK_BODY_BYTES } from "./body-limit.ts";
import type { SandboxProvider } from "./sandbox/sandbox.ts";
import { openDatabase, type Database } from "./store/database.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./store/embedded-postgres.ts";
import type { Job } from "./store/jobs.sql.ts";
import { migrateDatabase } from "./store/migrate.ts";
import { startWebServer, type RequestHandler, type WebServer } from "./web-server.ts";
import { startWorkerRole } from "./worker-role.ts";

/** Where GitHub delivers webhooks: the app registration in app.yml points here. */
const WEBHOOK_PATH = "/api/github/webhooks";

export interface StartOptions {
  config: Config;
  log: Logger;
  /** Octokit class for GitHub calls; tests pass one with retries and throttling off. */
  Octokit?: typeof ProbotOctokit;
  sandboxes?: SandboxProvider;
  /** First delay before a job is retried, in seconds (default 5; tests shorten it). */
  retryDelaySeconds?: number;
  /** Largest webhook body accepted, in bytes (default GitHub's cap, MAX_WEBHOOK_BODY_BYTES; tests lower it). */
  maxWebhookBodyBytes?: number;
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
 * `stop()` tears it down in reverse, and never waits on GitHub.
 */
export async function startApp(options: StartOptions): Promise<RunningApp> {
  const { config, log } = options;
  const app = config.app;
  if (!app) throw new ConfigError("APP_ID is not set: run `npm start` without ROLE to register the GitHub App first.");
  checkSandboxPolicy(config);
  const embedded = await startDatabaseServer(config, log);
  const database = openDatabase(embedded?.url ?? config.env.DATABASE_URL!, { max: config.env.DATABASE_POOL_SIZE });
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
  // Every GitHub call of this process goes through it: a stop does not wait on GitHub.
  const githubCalls = createGitHubCallStop();
  const ProbotWithAuth = Probot.defaults({
    appId: app.appId,
    privateKey: app.privateKey,
    secret: app.webhookSecret,
    baseUrl: config.githubApiUrl,
    log: log.child({ name: "probot" }),
    Octokit: (options.Octokit ?? ProbotOctokit).plugin(githubCalls.plugin),
  });
  const background = new Set<Promise<unknown>>();
  // Aborted at shutdown: running jobs stop their sandboxes and go back to the queue.
  const stopping = new AbortController();
  const role = config.env.ROLE;
  const server = role === "worker" ? null : await startWeb(config, log, ProbotWithAuth, { database, boss, background, maxWebhookBodyBytes: options.maxWebhookBodyBytes ?? MAX_WEBHOOK_BODY_BYTES });
  if (server) {
    const probot = new ProbotWithAuth();
    await scheduleRedelivery(boss, async () => redeliverFailedDeliveries(await probot.auth(), database.db, log), log);
    await scheduleRelease(
      boss,
      async () => {
        const pipelines = { pool: database.pool, db: database.db, boss, octokitFor: (installationId: number) => probot.auth(installationId), log };
        // Messages the ended jobs' agents never read run as jobs of their own.
        for (const job of await releaseAbandonedJobs(database, boss)) await showJobChange(pipelines, await handOnMessagesOfEnded(database.pool, boss, job));
        // Pipeline steps whose end their run never heard of (a process died in between).
        await settleAndShowForgottenSteps(pipelines);
        // And jobs and runs whose last state never reached GitHub (a failed write, a process that died).
        await showStaleJobs(pipelines);
        await showStaleRuns(pipelines);
      },
      log,
    );
  }
  const worker = role === "web" ? null : await startWorkerRole({ config, log, sandboxes: options.sandboxes, appId: app.appId, database, boss, ProbotWithAuth, signal: stopping.signal, webUrl: server?.url ?? null });
  log.info({ role, url: server?.url ?? null }, "Running Agent started");
  let stopped: Promise<void> | undefined;
  return {
    url: server?.url ?? null,
    database,
    boss,
    stop() {
      stopped ??= (async () => {
        // 1. GitHub: no retries from here on, and every call ends within LAST_CALLS_MS (calls-at-stop.ts).
        githubCalls.stop();
        // 2. No new work: no more requests, no more jobs; running jobs stop their sandboxes and are handed back.
        stopping.abort();
        await Promise.all([server?.server.stop(), stopTakingJobs(boss)]);
        await Promise.allSettled([...background]);
        // 3. The queue waits for the running jobs' hand-back and closes its pool (the worker's
        // spare agents go meanwhile: they need no database); then ours closes.
        await Promise.all([boss.stop({ graceful: true, timeout: 20_000 }), worker?.close()]);
        await database.close();
        // 4. Postgres last: stopped under open connections, it ends each with an error.
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


async function startWeb(
  config: Config,
  log: Logger,
  ProbotWithAuth: typeof Probot,
  deps: { database: Database; boss: PgBoss; background: Set<Promise<unknown>>; maxWebhookBodyBytes: number },
): Promise<{ server: WebServer; url: string }> {
  // Our own server, not Probot's: webhook bodies are size-checked before Probot reads them (web-server.ts).
  const probot = new ProbotWithAuth();
  const handlers: RequestHandler[] = [];
  const signIn = config.signIn
    ? { sealer: createCookieSealer(config.signIn.sessionSecret), github: createSignInGitHub({ ...config.signIn, apiUrl: config.githubApiUrl }), publicUrl: config.signIn.publicUrl }
    : null;
  const lookUpRole = createRoleLookup();
  await probot.load((probot, { addHandler }) => {
    registerTriggers(probot, {
      pool: deps.database.pool,
      db: deps.database.db,
      boss: deps.boss,
      lookUpRole,
      background: deps.background,
      forkPullRequests: config.env.AGENT_FORK_PULL_REQUESTS,
      ...(config.env.APP_ID === undefined ? {} : { appId: config.env.APP_ID }),
    });
    const pipelines = { pool: deps.database.pool, db: deps.database.db, boss: deps.boss, octokitFor: (installationId: number) => probot.auth(installationId), log };
    const showOnGitHub = (job: Job) => {
      const shown = showJobChange(pipelines, job);
      const tracked = shown.catch((error: unknown) => log.warn({ err: error, jobId: job.id }, "showing the job's new state on GitHub failed")).finally(() => deps.background.delete(tracked));
      deps.background.add(tracked);
    };
    if (config.gatewayProviders) addHandler(createModelGateway({ db: deps.database.db, providers: config.gatewayProviders, log: log.child({ name: "gateway" }) }));
    const apiGitHub = createApiGitHub(probot, { pool: deps.database.pool, background: deps.background, log });
    addHandler(createApiHandler({ db: deps.database.db, pool: deps.database.pool, boss: deps.boss, showOnGitHub, apiGitHub, apiToken: config.env.API_TOKEN, signIn, githubHost: config.env.GHE_HOST ?? "github.com", role: config.env.ROLE, log }));
  }, { cwd: process.cwd(), addHandler: (handler) => void handlers.push(handler) });
  const server = await startWebServer({
    host: config.env.HOST,
    port: config.env.PORT,
    log,
    webhooks: await probot.getNodeMiddleware({ path: WEBHOOK_PATH }),
    webhookPath: WEBHOOK_PATH,
    maxWebhookBodyBytes: deps.maxWebhookBodyBytes,
    handlers,
    upgrades: [createJobWebSocketUpgrade({ db: deps.database.db, callerOf: createCallerResolver({ apiToken: config.env.API_TOKEN, sealer: signIn?.sealer ?? null, github: signIn?.github ?? null }), log })],
  });
  const host = config.env.HOST === "0.0.0.0" ? "127.0.0.1" : config.env.HOST;
  return { server, url: `http://${host}:${server.port}` };
}
