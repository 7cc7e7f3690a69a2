import type pg from "pg";
import type { PgBoss } from "pg-boss";
import { z } from "zod";
import { createJob } from "../jobs/create-job.ts";
import type { Job } from "../store/jobs.sql.ts";
import type { ApiGitHub } from "./api-github.ts";
import { REPOSITORY, type Route, readJsonBody, sendError, sendJson, sendProblems } from "./http.ts";
import { jobToJson } from "./job-json.ts";


const createRequest = z
  .object({
    repository: z.string().regex(REPOSITORY, "owner/name"),
    /** The issue the job reports on (its progress comment) and its pull request closes. */
    issue_number: z.number().int().positive(),
    task: z.string().trim().min(1, "a task cannot be empty").max(20_000),
    /** Who the job is for, shown on GitHub; the API token's holder otherwise. */
    requester: z.string().min(1).max(100).default("api"),
  })
  .strict();

/**
 * `POST /api/jobs`: the same job as `/agent <task>` on the issue, asked by an API client
 * (the token is the authorization): it reports on the issue, and its pull request closes it.
 */
export function registerJobCreation(route: Route, deps: { pool: pg.Pool; boss: PgBoss; github: ApiGitHub | null; showOnGitHub(job: Job): void }): void {
  route("POST", "/api/jobs", async (req, res) => {
    const request = createRequest.safeParse(await readJsonBody(req));
    if (!request.success) return sendProblems(res, "invalid request", request.error.issues);
    if (!deps.github) return sendError(res, 503, "this process cannot reach GitHub (no GitHub App credentials): jobs cannot be created here");
    const [, owner, name] = REPOSITORY.exec(request.data.repository)!;
    const located = await deps.github.repositoryOf(owner!, name!);
    if (!located) return sendError(res, 422, `the GitHub App is not installed on ${request.data.repository}`);
    const issue = await deps.github.issueOf(located.installationId, owner!, name!, request.data.issue_number);
    if (!issue) return sendError(res, 422, `${request.data.repository} has no issue #${request.data.issue_number}`);
    if (issue.isPullRequest) return sendError(res, 422, `#${request.data.issue_number} is a pull request: comment \`/agent <feedback>\` on it instead`);
    const created = await createJob(deps.pool, deps.boss, {
      delivery: null,
      ...located,
      issue: { number: request.data.issue_number, title: issue.title, isPullRequest: false },
      trigger: "api",
      task: request.data.task,
      requester: { login: request.data.requester, id: 0 },
      triggerCommentId: null,
    });
    if (!created.created) throw new Error("a job without a delivery cannot be a duplicate");
    deps.showOnGitHub(created.job);
    sendJson(res, 201, jobToJson(created.job));
  });
}
