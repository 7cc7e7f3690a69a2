import type pg from "pg";
import type { PgBoss } from "pg-boss";
import { and, desc, eq, inArray, lt } from "drizzle-orm";
import { z } from "zod";
import { cancelJobs } from "../jobs/thread-control.ts";
import { cancelRun } from "../pipelines/advance-run.ts";
import { inputsProblemOf } from "../pipelines/check-run-request.ts";
import { startPipelineRun } from "../pipelines/start-pipeline-run.ts";
import type { Db } from "../store/database.ts";
import { inRepositories } from "../store/job-queries.ts";
import { jobs, type Job } from "../store/jobs.sql.ts";
import { pipelineRuns, type PipelineRun } from "../store/pipeline-runs.sql.ts";
import type { ApiGitHub } from "./api-github.ts";
import { mayRead, readableRepoIds, requesterOf, requireWrite, requireWriteByName, type Caller } from "./caller.ts";
import { BadRequest, type Route, readJsonBody, readPage, sendError, sendJson, sendProblems } from "./http.ts";
import { readablePipeline } from "./pipeline-routes.ts";
import { runToJson } from "./run-json.ts";


export interface RunRouteDeps {
  db: Db;
  pool: pg.Pool;
  boss: PgBoss;
  github: ApiGitHub | null;
  showOnGitHub(job: Job): void;
}

const INPUT_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const runRequest = z
  .object({
    inputs: z.record(z.string().regex(INPUT_KEY, "an input key is letters, digits, '_' or '-'"), z.string().max(10_000)).default({}),
    /** Who the run is for, shown on GitHub and in commits; the API token's holder otherwise. */
    requester: z.string().min(1).max(100).default("api"),
  })
  .strict();

/**
 * Runs of pipelines stored through the API (README: REST API). A run started here has no issue:
 * its progress is this API (and each step's check run); its pull request opens when it ends.
 */
export function registerRunRoutes(route: Route, deps: RunRouteDeps): void {
  route(
    "POST",
    "/api/pipelines/:id/runs",
    async (req, res, params, _url, caller) => {
      const pipeline = await readablePipeline(deps.db, caller, params.id!);
      await requireWriteByName(caller, `${pipeline.repoOwner}/${pipeline.repoName}`);
      const request = runRequest.safeParse((await readJsonBody(req)) ?? {});
      if (!request.success) return sendProblems(res, "invalid request", request.error.issues);
      const problem = inputsProblemOf(pipeline.definition, request.data.inputs);
      if (problem !== null) return sendProblems(res, "invalid inputs", [{ path: ["inputs"], message: problem }]);
      if (!deps.github) return sendError(res, 503, "this process cannot reach GitHub (no GitHub App credentials): runs cannot start here");
      const located = await deps.github.repositoryOf(pipeline.repoOwner, pipeline.repoName);
      if (!located) return sendError(res, 422, `the GitHub App is not installed on ${pipeline.repoOwner}/${pipeline.repoName}`);
      const run = await startPipelineRun(deps.pool, deps.boss, {
        ...located,
        issueNumber: null,
        pipelineName: pipeline.name,
        pipeline: pipeline.definition,
        inputs: request.data.inputs,
        requester: requesterOf(caller, request.data.requester),
        delivery: null,
      });
      deps.github.showRun(run!);
      sendJson(res, 201, runToJson(run!, await stepJobsOf(deps.db, run!)));
    },
    people,
  );
  route(
    "GET",
    "/api/pipelines/:id/runs",
    async (_req, res, params, url, caller) => {
      const { limit, before } = readPage(url);
      const pipeline = await readablePipeline(deps.db, caller, params.id!);
      const runs = await deps.db
        .select()
        .from(pipelineRuns)
        .where(
          and(
            eq(pipelineRuns.repoOwner, pipeline.repoOwner),
            eq(pipelineRuns.repoName, pipeline.repoName),
            eq(pipelineRuns.pipelineName, pipeline.name),
            before ? lt(pipelineRuns.createdAt, before) : undefined,
          ),
        )
        .orderBy(desc(pipelineRuns.createdAt))
        .limit(limit);
      sendJson(res, 200, { runs: await runsToJson(deps.db, runs) });
    },
    people,
  );
  route(
    "GET",
    "/api/runs",
    async (_req, res, _params, url, caller) => {
      const { limit, before } = readPage(url);
      const runs = await deps.db
        .select()
        .from(pipelineRuns)
        .where(and(before ? lt(pipelineRuns.createdAt, before) : undefined, inRepositories(pipelineRuns.repoId, await readableRepoIds(caller))))
        .orderBy(desc(pipelineRuns.createdAt))
        .limit(limit);
      sendJson(res, 200, { runs: await runsToJson(deps.db, runs) });
    },
    people,
  );
  route(
    "GET",
    "/api/runs/:id",
    async (_req, res, params, _url, caller) => {
      const run = await readableRun(deps.db, caller, params.id!);
      sendJson(res, 200, runToJson(run, await stepJobsOf(deps.db, run)));
    },
    people,
  );
  route(
    "POST",
    "/api/runs/:id/cancel",
    async (_req, res, params, _url, caller) => {
      await requireWrite(caller, (await readableRun(deps.db, caller, params.id!)).repoId, "run");
      const by = caller.kind === "person" ? `@${caller.session.login}` : "an API client";
      const outcome = await cancelRun(deps.pool, params.id!, by);
      if (!outcome) return sendError(res, 404, "no run with that id");
      // Pending steps are cancelled already; running ones are stopped by their workers, which then record their end.
      for (const jobId of outcome.runningJobIds) {
        const cancelled = await cancelJobs(deps.pool, { jobId }, by, null);
        for (const job of cancelled?.cancelled ?? []) deps.showOnGitHub(job);
      }
      deps.github?.showRun(outcome.run);
      sendJson(res, 202, runToJson(outcome.run, await stepJobsOf(deps.db, outcome.run)));
    },
    people,
  );
}

const people = { people: true };

/** The run, if the caller may read its repository; a 404 otherwise, as for an unknown one. */
async function readableRun(db: Db, caller: Caller, id: string): Promise<PipelineRun> {
  const [run] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.id, id));
  if (!run || !(await mayRead(caller, run.repoId))) throw new BadRequest(404, "no run with that id");
  return run;
}

/** Runs as the API shows them, with their steps' jobs read in one query. */
async function runsToJson(db: Db, runs: readonly PipelineRun[]) {
  const stepJobs = runs.length === 0 ? [] : await db.select().from(jobs).where(inArray(jobs.pipelineRunId, runs.map((run) => run.id)));
  return runs.map((run) => runToJson(run, stepJobs.filter((job) => job.pipelineRunId === run.id)));
}

async function stepJobsOf(db: Db, run: PipelineRun): Promise<Job[]> {
  return db.select().from(jobs).where(eq(jobs.pipelineRunId, run.id));
}
