import { z } from "zod";
import type { Db } from "../store/database.ts";
import type { JobEvent } from "../store/job-events.sql.ts";
import { findJob, listJobEvents, listJobs } from "../store/job-queries.ts";
import type { Job } from "../store/jobs.sql.ts";
import { queueTask, REQUESTER, TASK, type TaskDeps } from "./create-job-route.ts";
import { jobToJson } from "./job-json.ts";
import { readJsonBody, readPage, type Route, sendError, sendJson, sendProblems } from "./http.ts";
import { parseRepositoryUrl, repositoryUrlError } from "./repository-url.ts";

/**
 * Where the product's original HTTP interface has a route of the REST API under another
 * path (README: The original HTTP interface): `METHOD /api/...` → its original path. Same
 * handler, same bearer token, same data.
 */
export const ORIGINAL_PATHS: Readonly<Record<string, string>> = {
  "GET /api/health": "/health",
  "POST /api/pipelines": "/pipelines",
  "GET /api/pipelines": "/pipelines",
  "GET /api/pipelines/:id": "/pipelines/:id",
  "DELETE /api/pipelines/:id": "/pipelines/:id",
  "POST /api/pipelines/:id/runs": "/pipelines/:id/run",
  "GET /api/pipelines/:id/runs": "/pipelines/:id/runs",
  "GET /api/runs/:id": "/runs/:id",
};

/** The first segments of the original interface's paths: requests the API answers (401, 404…) rather than passing on. */
export const ORIGINAL_ROOTS: ReadonlySet<string> = new Set(["submit", "status", "result", "jobs", "health", "pipelines", "runs"]);

const submitRequest = z
  .object({
    repo_url: z.string().max(1_000),
    task: TASK,
    /** Refused: this server acts as its GitHub App; it is here only to say so clearly. */
    github_token: z.unknown().optional(),
    /** Who the job is for: recorded as its requester. */
    user_id: z.union([REQUESTER, z.number().int().transform(String)]).optional(),
  })
  .strict();

export interface OriginalRouteDeps extends TaskDeps {
  db: Db;
  /** The GitHub host repositories are on: github.com, or the GitHub Enterprise host. */
  githubHost: string;
}

/**
 * The routes of the original interface that have no `/api` twin: submit a task by its
 * repository's URL, poll its status, read its result, list jobs. They read the same rows
 * as `/api/jobs`, in the original's field names.
 */
export function registerOriginalRoutes(route: Route, deps: OriginalRouteDeps): void {
  route("POST", "/submit", async (req, res) => {
    const body = await readJsonBody(req);
    // Before anything else, and without echoing it: a user's token is never taken, not even to check it.
    if (typeof body === "object" && body !== null && "github_token" in body && (body as { github_token: unknown }).github_token != null) {
      return sendError(res, 422, "github_token is not accepted: this server acts on GitHub as its GitHub App, installed on the repository; remove the field and never send a personal token here");
    }
    const request = submitRequest.safeParse(body);
    if (!request.success) return sendProblems(res, "invalid request", request.error.issues);
    const repository = parseRepositoryUrl(request.data.repo_url, deps.githubHost);
    if ("problem" in repository) return sendError(res, 422, repositoryUrlError(repository.problem, deps.githubHost));
    const job = await queueTask(deps, { ...repository, task: request.data.task, requester: request.data.user_id ?? "api" });
    sendJson(res, 200, { job_id: job.id, status: job.status });
  });
  route(
    "GET",
    "/status/:id",
    async (_req, res, params) => {
      const job = await findJob(deps.db, params.id!);
      if (!job) return sendError(res, 404, "no job with that id");
      sendJson(res, 200, { job_id: job.id, status: job.status });
    },
    { resource: "job" },
  );
  route(
    "GET",
    "/result/:id",
    async (_req, res, params) => {
      const job = await findJob(deps.db, params.id!);
      if (!job) return sendError(res, 404, "no job with that id");
      sendJson(res, 200, resultOf(job, await listJobEvents(deps.db, job.id)));
    },
    { resource: "job" },
  );
  route("GET", "/jobs", async (_req, res, _params, url) => {
    const { limit, before } = readPage(url);
    const jobs = await listJobs(deps.db, { limit, ...(before ? { before } : {}) });
    sendJson(res, 200, { jobs: jobs.map((job) => summaryOf(job, deps.githubHost)) });
  });
}

/** `GET /result/{job_id}`: the API's job in the original's fields, its log as lines. */
function resultOf(job: Job, events: readonly JobEvent[]) {
  const shown = jobToJson(job);
  return {
    job_id: shown.id,
    status: shown.status,
    pr_url: shown.pr_url,
    total_cost: shown.total_cost,
    total_tokens_in: shown.total_tokens_in,
    total_tokens_out: shown.total_tokens_out,
    iterations: shown.iterations,
    tests_passed: shown.tests_passed,
    debug_mode: shown.debug_mode,
    resumed_from_checkpoint: shown.resumed_from_checkpoint,
    exploration_report_generated: shown.exploration_report_generated,
    logs: events.map((event) => `${event.at.toISOString()} ${event.message}`),
  };
}

/** One row of `GET /jobs`. A job of `running-agent run` names no URL: its repository is on someone's machine. */
function summaryOf(job: Job, githubHost: string) {
  return {
    job_id: job.id,
    status: job.status,
    repo_url: job.trigger === "local" ? null : `https://${githubHost}/${job.repoOwner}/${job.repoName}`,
    task: job.task,
    user_id: job.requesterLogin,
    pr_url: job.prUrl,
    created_at: job.createdAt.toISOString(),
    finished_at: job.finishedAt?.toISOString() ?? null,
  };
}
