import type pg from "pg";
import type { PgBoss } from "pg-boss";
import { z } from "zod";
import { createJob } from "../jobs/create-job.ts";
import { NO_ISSUE, type Job } from "../store/jobs.sql.ts";
import type { ApiGitHub } from "./api-github.ts";
import { BadRequest, REPOSITORY, type Route, readJsonBody, sendJson, sendProblems } from "./http.ts";
import { requesterOf, requireWriteByName } from "./caller.ts";
import { jobToJson } from "./job-json.ts";

export interface TaskDeps {
  pool: pg.Pool;
  boss: PgBoss;
  github: ApiGitHub | null;
  showOnGitHub(job: Job): void;
}

/** A task as the API takes it, from `POST /api/jobs` or the original interface's `POST /submit`. */
export interface TaskRequest {
  owner: string;
  name: string;
  task: string;
  /** The issue it reports on and its pull request closes; none: it reports in its check run and through the API. */
  issueNumber?: number | undefined;
  /** The branch it builds on and its pull request targets; the repository's default otherwise. */
  base?: string | undefined;
  /** Who it is for, shown on GitHub; `requesterId` is their GitHub id when they signed in (0 otherwise). */
  requester: string;
  requesterId?: number;
}

/** A task: what `/agent <task>` says after the command. */
export const TASK = z.string().trim().min(1, "a task cannot be empty").max(20_000);
/** Who asked, as the API records it. */
export const REQUESTER = z.string().trim().min(1).max(100);
/** A branch name: git's rules that matter here, checked again by GitHub, which must have it. */
const BRANCH = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?![./-])(?!.*(?:\.\.|\/\/|\/\.|\.lock$|\/$|\.$))[A-Za-z0-9._/-]+$/, "a branch name (letters, digits, . _ - /)");

const createRequest = z
  .object({
    repository: z.string().regex(REPOSITORY, "owner/name"),
    task: TASK,
    /** The issue the job reports on (its progress comment) and its pull request closes. */
    issue_number: z.number().int().positive().optional(),
    base: BRANCH.optional(),
    /** Who the job is for, shown on GitHub; the API token's holder otherwise. */
    requester: REQUESTER.default("api"),
  })
  .strict();

/**
 * Queue a task asked through the API (the token is the authorization). With an issue it is
 * the same job as `/agent <task>` there: it reports on the issue, and its pull request
 * closes it. Without one it reports in its check run (on the base branch's head) and
 * through the API, and its pull request holds the task. A BadRequest (422, 503) says why
 * nothing was queued.
 */
export async function queueTask(deps: TaskDeps, request: TaskRequest): Promise<Job> {
  const repository = `${request.owner}/${request.name}`;
  if (!deps.github) throw new BadRequest(503, "this process cannot reach GitHub (no GitHub App credentials): jobs cannot be created here");
  const located = await deps.github.repositoryOf(request.owner, request.name);
  if (!located) throw new BadRequest(422, `the GitHub App is not installed on ${repository}`);
  const repo = request.base === undefined ? located.repo : { ...located.repo, defaultBranch: request.base };
  if (request.base !== undefined && !(await deps.github.hasBranch(located.installationId, request.owner, request.name, request.base))) {
    throw new BadRequest(422, `${repository} has no branch ${request.base}`);
  }
  let issue = { number: NO_ISSUE, title: firstLine(request.task), isPullRequest: false };
  if (request.issueNumber !== undefined) {
    const found = await deps.github.issueOf(located.installationId, request.owner, request.name, request.issueNumber);
    if (!found) throw new BadRequest(422, `${repository} has no issue #${request.issueNumber}`);
    if (found.isPullRequest) throw new BadRequest(422, `#${request.issueNumber} is a pull request: comment \`/agent <feedback>\` on it instead`);
    issue = { number: request.issueNumber, title: found.title, isPullRequest: false };
  }
  const created = await createJob(deps.pool, deps.boss, {
    delivery: null,
    installationId: located.installationId,
    repo,
    issue,
    trigger: "api",
    task: request.task,
    requester: { login: request.requester, id: request.requesterId ?? 0 },
    triggerCommentId: null,
  });
  if (!created.created) throw new Error("a job without a delivery cannot be a duplicate");
  deps.showOnGitHub(created.job);
  return created.job;
}

/** `POST /api/jobs`: a task on a repository, with or without an issue; for a signed-in person, on a repository they may write to, for them. */
export function registerJobCreation(route: Route, deps: TaskDeps): void {
  route(
    "POST",
    "/api/jobs",
    async (req, res, _params, _url, caller) => {
      const request = createRequest.safeParse(await readJsonBody(req));
      if (!request.success) return sendProblems(res, "invalid request", request.error.issues);
      await requireWriteByName(caller, request.data.repository);
      const [, owner, name] = REPOSITORY.exec(request.data.repository)!;
      const requester = requesterOf(caller, request.data.requester);
      const job = await queueTask(deps, { owner: owner!, name: name!, task: request.data.task, issueNumber: request.data.issue_number, base: request.data.base, requester: requester.login, requesterId: requester.id });
      sendJson(res, 201, jobToJson(job));
    },
    { people: true },
  );
}

/** The task's first line, shortened: the job's title where an issue's would be. */
function firstLine(task: string): string {
  const line = task.trim().split("\n")[0]!.trim();
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}
