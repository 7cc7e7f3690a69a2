import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import type { Logger } from "pino";
import type { PgBoss } from "pg-boss";
import { cancelJobs, retryJob } from "../jobs/thread-control.ts";
import { reopenStep } from "../pipelines/advance-run.ts";
import type { Db } from "../store/database.ts";
import type { Job } from "../store/jobs.sql.ts";
import { findJob, listJobEvents, listJobs } from "../store/job-queries.ts";
import { BadRequest, hasValidBearer, readPage, RESOURCE_ID, sendError, sendJson, type Handler, type Route } from "./http.ts";
import { ORIGINAL_PATHS, ORIGINAL_ROOTS, registerOriginalRoutes } from "./original-routes.ts";
import { registerPipelineRoutes } from "./pipeline-routes.ts";
import type { ApiGitHub } from "./api-github.ts";
import { registerJobCreation } from "./create-job-route.ts";
import { registerRunRoutes } from "./run-routes.ts";
import { streamJobEvents, type EventStreamOptions } from "./job-event-stream.ts";
import { jobToJson } from "./job-json.ts";
import { serveDashboard } from "./dashboard-assets.ts";
import { renderMetrics } from "./metrics.ts";
import { registerStatsRoute } from "./stats.ts";

export interface ApiDeps {
  db: Db;
  pool: pg.Pool;
  boss: PgBoss;
  /** Show a job's new state on GitHub in the background (a cancelled queued job, a retried one), and its pipeline run's (`showJobChange`). */
  showOnGitHub(job: Job): void;
  /** What starting and showing pipeline runs needs of GitHub; null where the app has no credentials. */
  apiGitHub?: ApiGitHub | null;
  /** Polling and keep-alive intervals of event streams (tests shorten them). */
  eventStream?: EventStreamOptions;
  apiToken: string | undefined;
  /** The GitHub host repositories are on (`GHE_HOST`): github.com unless set. */
  githubHost?: string;
  role: string;
  log: Logger;
}

/** The REST API's paths, the original interface's and /metrics; not Probot's webhooks under /api/github. */
function isApiPath(path: string): boolean {
  if (path === "/metrics") return true;
  if (path.startsWith("/api/")) return !path.startsWith("/api/github/");
  return ORIGINAL_ROOTS.has(path.split("/")[1] ?? "");
}



/**
 * The REST API as a Probot `addHandler` handler: answers `/api/*`, returns false for
 * anything else so Probot's own routes (webhooks, /ping) still work.
 */
export function createApiHandler(deps: ApiDeps) {
  const routes: Array<{ method: string; pattern: RegExp; names: string[]; handler: Handler; resource: string | null }> = [];
  const add = (method: string, path: string, handler: Handler, resource: string | null) => {
    const names: string[] = [];
    const source = path.replace(/:(\w+)/g, (_, name: string) => {
      names.push(name);
      return "([^/]+)";
    });
    routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler, resource });
  };
  const route: Route = (method, path, handler, resource) => {
    // What `:id` names (`/api/runs/:id` → "run"): an id that is no UUID is a 404 for that
    // resource, like an unknown one, not a missing endpoint (nor a database error).
    const named = resource ?? /\/(\w+)s\/:id(?:\/|$)/.exec(path)?.[1] ?? null;
    add(method, path, handler, named);
    const original = ORIGINAL_PATHS[`${method} ${path}`];
    if (original) add(method, original, handler, named);
  };

  route("GET", "/api/health", async (_req, res) => {
    await deps.pool.query("select 1");
    sendJson(res, 200, { status: "ok", role: deps.role, database: "ok" });
  });
  route("GET", "/api/jobs", async (_req, res, _params, url) => {
    const { limit, before } = readPage(url);
    const jobs = await listJobs(deps.db, { limit, ...(before ? { before } : {}) });
    sendJson(res, 200, { jobs: jobs.map((job) => jobToJson(job)) });
  });
  const tasks = { pool: deps.pool, boss: deps.boss, github: deps.apiGitHub ?? null, showOnGitHub: deps.showOnGitHub };
  registerJobCreation(route, tasks);
  registerOriginalRoutes(route, { ...tasks, db: deps.db, githubHost: deps.githubHost ?? "github.com" });
  route("POST", "/api/jobs/:id/cancel", async (_req, res, params) => {
    const outcome = await cancelJobs(deps.pool, { jobId: params.id! }, "an API client", null);
    const job = outcome?.cancelled[0] ?? outcome?.stopping[0];
    if (!job) {
      const existing = await findJob(deps.db, params.id!);
      return existing ? sendError(res, 409, `the job has already ended (${existing.status})`) : sendError(res, 404, "no job with that id");
    }
    // A local job (`running-agent run`) has no GitHub to show it on.
    if (outcome!.cancelled.length > 0 && job.trigger !== "local") deps.showOnGitHub(job);
    // 202: a running job is stopped by its worker (a local one by its running-agent process) within seconds; poll the job to see it end.
    sendJson(res, 202, jobToJson(job));
  });
  route("POST", "/api/jobs/:id/retry", async (_req, res, params) => {
    // Its repository is on the machine that ran it, out of any worker's reach.
    if ((await findJob(deps.db, params.id!))?.trigger === "local") return sendError(res, 409, "this job ran on a repository on someone's machine; run `running-agent run` there again");
    const outcome = await retryJob(deps.pool, deps.boss, { jobId: params.id! }, null, reopenStep);
    if (outcome.kind === "none" || outcome.kind === "duplicate_delivery") return sendError(res, 404, "no job with that id");
    if (outcome.kind === "pipeline_step") return sendError(res, 409, "this job is a step of a pipeline run that is still going: a step is retried once its run has ended");
    if (outcome.kind !== "retried") return sendError(res, 409, `only a failed, timed-out or cancelled job can be retried; this one is ${outcome.job.status}`);
    deps.showOnGitHub(outcome.job);
    sendJson(res, 202, jobToJson(outcome.job));
  });
  route("GET", "/api/jobs/:id/events", async (req, res, params) => {
    const job = await findJob(deps.db, params.id!);
    if (!job) return sendError(res, 404, "no job with that id");
    await streamJobEvents(deps.db, job, req, res, deps.eventStream);
  });
  route("GET", "/api/jobs/:id", async (_req, res, params) => {
    const job = await findJob(deps.db, params.id!);
    if (!job) return sendError(res, 404, "no job with that id");
    sendJson(res, 200, jobToJson(job, await listJobEvents(deps.db, job.id)));
  });

  registerPipelineRoutes(route, deps.db);
  registerRunRoutes(route, { db: deps.db, pool: deps.pool, boss: deps.boss, github: deps.apiGitHub ?? null, showOnGitHub: deps.showOnGitHub });
  registerStatsRoute(route, { pool: deps.pool });
  route("GET", "/metrics", async (_req, res) => {
    const text = await renderMetrics(deps.pool);
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
    res.end(text);
  });

  return async function handleApi(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (serveDashboard(req, res, url)) return true;
    if (!isApiPath(url.pathname)) return false;
    if (!hasValidBearer(req, deps.apiToken)) {
      sendError(res, 401, deps.apiToken ? "missing or wrong bearer token" : "the API is disabled: set API_TOKEN to enable it");
      return true;
    }
    const candidates = routes.filter((candidate) => candidate.pattern.test(url.pathname));
    if (candidates.length === 0) {
      sendError(res, 404, "no such endpoint");
      return true;
    }
    const matched = candidates.find((candidate) => candidate.method === req.method);
    if (!matched) {
      res.setHeader("allow", candidates.map((candidate) => candidate.method).join(", "));
      sendError(res, 405, "method not allowed");
      return true;
    }
    const values = matched.pattern.exec(url.pathname)!.slice(1);
    const params = Object.fromEntries(matched.names.map((name, index) => [name, values[index]!]));
    if (matched.resource && !RESOURCE_ID.test(params.id!)) {
      sendError(res, 404, `no ${matched.resource} with that id`);
      return true;
    }
    try {
      await matched.handler(req, res, params, url);
    } catch (error) {
      if (error instanceof BadRequest) {
        sendError(res, error.status, error.message);
        return true;
      }
      deps.log.error({ err: error, path: url.pathname }, "API handler failed");
      if (!res.headersSent) sendError(res, 500, "internal error; see the server log");
      else res.end();
    }
    return true;
  };
}
