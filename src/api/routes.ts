import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import type { Logger } from "pino";
import type { PgBoss } from "pg-boss";
import { cancelJobs, retryJob } from "../jobs/thread-control.ts";
import { reopenStep } from "../pipelines/advance-run.ts";
import type { Db } from "../store/database.ts";
import type { Job } from "../store/jobs.sql.ts";
import { findJob, listJobEvents, listJobs } from "../store/job-queries.ts";
import { BadRequest, headerOf, readPage, RESOURCE_ID, sendError, sendJson, type Handler, type Route } from "./http.ts";
import { createCallerResolver, mayRead, readableRepoIds, requireWrite, type Caller } from "./caller.ts";
import { sameToken, type CookieSealer } from "./session.ts";
import type { SignInGitHub } from "./sign-in-github.ts";
import { createSignInHandler } from "./sign-in-routes.ts";
import { ORIGINAL_PATHS, ORIGINAL_ROOTS, registerOriginalRoutes } from "./original-routes.ts";
import { registerPipelineRoutes } from "./pipeline-routes.ts";
import type { ApiGitHub } from "./api-github.ts";
import { registerJobCreation } from "./create-job-route.ts";
import { registerRunRoutes } from "./run-routes.ts";
import { streamJobEvents, type EventStreamOptions } from "./job-event-stream.ts";
import { jobDetailToJson, jobToJson } from "./job-json.ts";
import { serveDashboard } from "./dashboard-assets.ts";
import { renderMetrics } from "./metrics.ts";
import { registerRepositoriesRoute } from "./repositories-route.ts";
import { registerDailyStatsRoute, registerStatsRoute } from "./stats.ts";

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
  /** Signing in with GitHub (the dashboard's people); absent where it is not configured. */
  signIn?: { sealer: CookieSealer; github: SignInGitHub; publicUrl: string | undefined } | null;
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
  const routes: Array<{ method: string; pattern: RegExp; names: string[]; handler: Handler; resource: string | null; people: boolean }> = [];
  const add = (method: string, path: string, handler: Handler, resource: string | null, people: boolean) => {
    const names: string[] = [];
    const source = path.replace(/:(\w+)/g, (_, name: string) => {
      names.push(name);
      return "([^/]+)";
    });
    routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler, resource, people });
  };
  const route: Route = (method, path, handler, options = {}) => {
    // What `:id` names (`/api/runs/:id` → "run"): an id that is no UUID is a 404 for that
    // resource, like an unknown one, not a missing endpoint (nor a database error).
    const named = options.resource ?? /\/(\w+)s\/:id(?:\/|$)/.exec(path)?.[1] ?? null;
    add(method, path, handler, named, options.people ?? false);
    // The original interface is for machines: its twin of a route takes the API token.
    const original = ORIGINAL_PATHS[`${method} ${path}`];
    if (original) add(method, original, handler, named, false);
  };
  const callerOf = createCallerResolver({ apiToken: deps.apiToken, sealer: deps.signIn?.sealer ?? null, github: deps.signIn?.github ?? null });
  const handleSignIn = createSignInHandler({ sealer: deps.signIn?.sealer ?? null, github: deps.signIn?.github ?? null, publicUrl: deps.signIn?.publicUrl, log: deps.log });
  const people = { people: true };
  /** The job, if the caller may read it; a 404 otherwise, as for an unknown one. */
  const readableJob = async (caller: Caller, id: string): Promise<Job> => {
    const job = await findJob(deps.db, id);
    if (!job || !(await mayRead(caller, job.repoId))) throw new BadRequest(404, "no job with that id");
    return job;
  };

  route(
    "GET",
    "/api/health",
    async (_req, res) => {
      await deps.pool.query("select 1");
      sendJson(res, 200, { status: "ok", role: deps.role, database: "ok" });
    },
    people,
  );
  route(
    "GET",
    "/api/jobs",
    async (_req, res, _params, url, caller) => {
      const { limit, before } = readPage(url);
      const jobs = await listJobs(deps.db, { limit, ...(before ? { before } : {}), repoIds: await readableRepoIds(caller) });
      sendJson(res, 200, { jobs: jobs.map((job) => jobToJson(job)) });
    },
    people,
  );
  const tasks = { pool: deps.pool, boss: deps.boss, github: deps.apiGitHub ?? null, showOnGitHub: deps.showOnGitHub };
  registerJobCreation(route, tasks);
  registerOriginalRoutes(route, { ...tasks, db: deps.db, githubHost: deps.githubHost ?? "github.com" });
  route(
    "POST",
    "/api/jobs/:id/cancel",
    async (_req, res, params, _url, caller) => {
      await requireWrite(caller, (await readableJob(caller, params.id!)).repoId, "job");
      const outcome = await cancelJobs(deps.pool, { jobId: params.id! }, caller.kind === "person" ? `@${caller.session.login}` : "an API client", null);
      const job = outcome?.cancelled[0] ?? outcome?.stopping[0];
      if (!job) {
        const existing = await findJob(deps.db, params.id!);
        return existing ? sendError(res, 409, `the job has already ended (${existing.status})`) : sendError(res, 404, "no job with that id");
      }
      // A local job (`running-agent run`) has no GitHub to show it on.
      if (outcome!.cancelled.length > 0 && job.trigger !== "local") deps.showOnGitHub(job);
      // 202: a running job is stopped by its worker (a local one by its running-agent process) within seconds; poll the job to see it end.
      sendJson(res, 202, jobToJson(job));
    },
    people,
  );
  route(
    "POST",
    "/api/jobs/:id/retry",
    async (_req, res, params, _url, caller) => {
      const existing = await readableJob(caller, params.id!);
      await requireWrite(caller, existing.repoId, "job");
      // Its repository is on the machine that ran it, out of any worker's reach.
      if (existing.trigger === "local") return sendError(res, 409, "this job ran on a repository on someone's machine; run `running-agent run` there again");
      const outcome = await retryJob(deps.pool, deps.boss, { jobId: params.id! }, null, reopenStep);
      if (outcome.kind === "none" || outcome.kind === "duplicate_delivery") return sendError(res, 404, "no job with that id");
      if (outcome.kind === "pipeline_step") return sendError(res, 409, "this job is a step of a pipeline run that is still going: a step is retried once its run has ended");
      if (outcome.kind !== "retried") return sendError(res, 409, `only a failed, timed-out or cancelled job can be retried; this one is ${outcome.job.status}`);
      deps.showOnGitHub(outcome.job);
      sendJson(res, 202, jobToJson(outcome.job));
    },
    people,
  );
  route(
    "GET",
    "/api/jobs/:id/events",
    async (req, res, params, _url, caller) => {
      await streamJobEvents(deps.db, await readableJob(caller, params.id!), req, res, deps.eventStream);
    },
    people,
  );
  route(
    "GET",
    "/api/jobs/:id",
    async (_req, res, params, _url, caller) => {
      const job = await readableJob(caller, params.id!);
      sendJson(res, 200, jobDetailToJson(job, await listJobEvents(deps.db, job.id)));
    },
    people,
  );

  registerPipelineRoutes(route, deps.db);
  registerRunRoutes(route, { db: deps.db, pool: deps.pool, boss: deps.boss, github: deps.apiGitHub ?? null, showOnGitHub: deps.showOnGitHub });
  registerStatsRoute(route, { pool: deps.pool });
  registerDailyStatsRoute(route, { pool: deps.pool });
  registerRepositoriesRoute(route, { github: deps.apiGitHub ?? null });
  route("GET", "/metrics", async (_req, res) => {
    const text = await renderMetrics(deps.pool);
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
    res.end(text);
  });

  return async function handleApi(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (serveDashboard(req, res, url)) return true;
    if (await handleSignIn(req, res, url)) return true;
    if (!isApiPath(url.pathname)) return false;
    const caller = callerOf(req);
    if (!caller) {
      sendError(res, 401, deps.signIn ? "missing or wrong bearer token, and not signed in" : deps.apiToken ? "missing or wrong bearer token" : "the API is disabled: set API_TOKEN to enable it");
      return true;
    }
    // A person's browser sends the session cookie with any request, a forged one from another site included: a change needs the page's own token too.
    if (caller.kind === "person" && req.method !== "GET" && req.method !== "HEAD" && !sameToken(headerOf(req, "x-csrf-token"), caller.session.csrf)) {
      sendError(res, 403, "missing or wrong x-csrf-token (the dashboard sends it; a script sends the API token instead)");
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
    if (caller.kind === "person" && !matched.people) {
      sendError(res, 403, "this endpoint takes the API token; signed-in people use /api/jobs, /api/runs, /api/pipelines and /api/stats");
      return true;
    }
    const values = matched.pattern.exec(url.pathname)!.slice(1);
    const params = Object.fromEntries(matched.names.map((name, index) => [name, values[index]!]));
    if (matched.resource && !RESOURCE_ID.test(params.id!)) {
      sendError(res, 404, `no ${matched.resource} with that id`);
      return true;
    }
    try {
      await matched.handler(req, res, params, url, caller);
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
