import nock from "nock";
import { INSTALLATION_ID, type RepoFixture } from "./github-fixtures.ts";

export const GITHUB_API = "https://api.github.com";

/**
 * A nock reply that records the request's JSON body. nock 15 calls a reply function with
 * the Request; a function of two parameters is taken for the callback style and hangs.
 */
export function recordJson<T = Record<string, unknown>>(record: (body: T, url: string) => unknown) {
  return async (request: Request) => record((await request.clone().json()) as T, request.url);
}
export const INSTALLATION_TOKEN = "ghs_installationTokenForTests000000000001";
export const REPO_TOKEN = "ghs_repositoryScopedTokenForTests0000000002";

/**
 * Probot's own installation-token request (any body without repository_ids). Optional:
 * Probot caches tokens, so whether a test asks again depends on what ran before it.
 */
export function nockInstallationToken(times = 1): nock.Scope {
  return nock(GITHUB_API)
    .post(`/app/installations/${INSTALLATION_ID}/access_tokens`, (body: Record<string, unknown>) => !body?.repository_ids)
    .optionally()
    .times(times)
    .reply(201, { token: INSTALLATION_TOKEN, expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {}, repository_selection: "all" });
}

export function nockRole(repo: RepoFixture, login: string, roleName: string | null, times = 1): nock.Scope {
  const scope = nock(GITHUB_API).get(`/repos/${repo.owner}/${repo.name}/collaborators/${login}/permission`).times(times);
  if (roleName === null) return scope.reply(404, { message: "Not Found" });
  const permission = roleName === "maintain" ? "write" : roleName === "triage" ? "read" : roleName;
  return scope.reply(200, { permission, role_name: roleName, user: { login } });
}

/** Everything the app does to announce a job: 👀 (on the comment, or on the issue for the label), the progress comment, the queued check run. */
export function nockAnnounce(repo: RepoFixture, options: { issueNumber: number; commentId?: number | null; labelled?: boolean; baseSha: string; progressCommentId?: number; checkRunId?: number }) {
  const path = `/repos/${repo.owner}/${repo.name}`;
  const seen: { comment?: Record<string, unknown>; checkRun?: Record<string, unknown> } = {};
  const scope = nock(GITHUB_API);
  if (options.commentId) scope.post(`${path}/issues/comments/${options.commentId}/reactions`, { content: "eyes" }).reply(201, { id: 1, content: "eyes" });
  if (options.labelled) scope.post(`${path}/issues/${options.issueNumber}/reactions`, { content: "eyes" }).reply(201, { id: 1, content: "eyes" });
    scope
    .post(`${path}/issues/${options.issueNumber}/comments`)
    .reply(
      201,
      recordJson((body) => {
        seen.comment = body;
        return { id: options.progressCommentId ?? 5001 };
      }),
    )
    .get(`${path}/git/ref/heads%2F${repo.defaultBranch}`)
    .reply(200, { ref: `refs/heads/${repo.defaultBranch}`, object: { sha: options.baseSha, type: "commit" } })
    .post(`${path}/check-runs`)
    .reply(
      201,
      recordJson((body) => {
        seen.checkRun = body;
        return { id: options.checkRunId ?? 6001 };
      }),
    );
  return { scope, seen };
}

/** An issue as the worker reads it for the agent's context (`gatherIssueContext`). */
export interface IssueFixture {
  number: number;
  title?: string;
  body?: string;
  author?: string;
  comments?: Array<{ id: number; login: string; body: string; createdAt?: string; type?: string }>;
  /** Other issues of the repository, by number, that `#N` may point to. */
  others?: Array<{ number: number; title: string; body: string; author?: string; pullRequest?: boolean }>;
  /** Role names by login, for the authors' access; anyone else has none. Default: octocat writes. */
  roles?: Record<string, string>;
}

export function issueJson(repo: RepoFixture, issue: { number: number; title?: string; body?: string; author?: string; pullRequest?: boolean }) {
  return {
    number: issue.number,
    title: issue.title ?? "Add a greeting function",
    body: issue.body ?? "",
    state: "open",
    user: { login: issue.author ?? "octocat", type: "User" },
    html_url: `https://github.com/${repo.owner}/${repo.name}/${issue.pullRequest ? "pull" : "issues"}/${issue.number}`,
    created_at: "2026-01-01T00:00:00Z",
    ...(issue.pullRequest ? { pull_request: { merged_at: null } } : {}),
  };
}

/**
 * What the worker reads of an issue for the agent: the issue, its comments, the issues it
 * points to and their authors' roles. Persisted and optional: a follow-up or a pipeline
 * step reads none of it.
 */
export function nockIssueContext(repo: RepoFixture, issue: IssueFixture): void {
  const path = `/repos/${repo.owner}/${repo.name}`;
  const roles: Record<string, string> = { octocat: "write", ...issue.roles };
  const scope = nock(GITHUB_API).persist();
  scope.get(`${path}/issues/${issue.number}`).optionally().reply(200, issueJson(repo, issue));
  scope
    .get(`${path}/issues/${issue.number}/comments`)
    .query(true)
    .optionally()
    .reply(
      200,
      (issue.comments ?? []).map((comment) => ({
        id: comment.id,
        body: comment.body,
        user: { login: comment.login, type: comment.type ?? "User" },
        created_at: comment.createdAt ?? "2026-01-01T00:00:00Z",
        updated_at: comment.createdAt ?? "2026-01-01T00:00:00Z",
      })),
    );
  for (const other of issue.others ?? []) scope.get(`${path}/issues/${other.number}`).optionally().reply(200, issueJson(repo, other));
  // Only the fixture's own people: a catch-all would answer the lookups a test scripts with nockRole.
  const people = new Set([issue.author ?? "octocat", ...(issue.comments ?? []).map((comment) => comment.login), ...(issue.others ?? []).map((other) => other.author ?? "octocat")]);
  for (const login of people) {
    const role = roles[login];
    const lookup = scope.get(`${path}/collaborators/${login}/permission`).optionally();
    if (role) lookup.reply(200, { permission: role === "maintain" ? "write" : role, role_name: role, user: { login } });
    else lookup.reply(404, { message: "Not Found" });
  }
}

/** The GitHub calls a worker makes for one job, recorded so the test can read their bodies. */
/** More repository-scoped tokens, for a job attempted again (each attempt issues its own). */
export function nockRepositoryTokens(times: number): nock.Scope {
  return nock(GITHUB_API)
    .post(`/app/installations/${INSTALLATION_ID}/access_tokens`, (body: Record<string, unknown>) => Boolean(body?.repository_ids))
    .times(times)
    .reply(201, { token: REPO_TOKEN, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
}

export function nockWorkerCalls(repo: RepoFixture, options: { expectPullRequest: boolean; pullRequestFailures?: number; issue?: IssueFixture | null }) {
  const path = `/repos/${repo.owner}/${repo.name}`;
  // null: a task without an issue, which has no issue to read and no comment to edit.
  if (options.issue !== null) nockIssueContext(repo, options.issue ?? { number: 7 });
  const seen = { checkRuns: [] as Array<Record<string, unknown>>, comments: [] as string[], pullRequest: null as Record<string, unknown> | null, tokenRequest: null as Record<string, unknown> | null };
  nock(GITHUB_API)
    .post(`/app/installations/${INSTALLATION_ID}/access_tokens`, (body: Record<string, unknown>) => {
      if (!body?.repository_ids) return false;
      seen.tokenRequest = body;
      return true;
    })
    .reply(201, { token: REPO_TOKEN, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
  // Whether the agent branch exists already (it does not: the job starts it from the default branch).
  nock(GITHUB_API)
    .persist()
    .get(new RegExp(`^${escapeRegExp(path)}/git/ref/heads%2Fagent%2F`))
    .optionally()
    .reply(404, { message: "Not Found" });
  const updates = nock(GITHUB_API)
    .persist()
    .patch(`${path}/check-runs/6001`)
    .reply(
      200,
      recordJson((body) => {
        seen.checkRuns.push(body);
        return { id: 6001 };
      }),
    );
  if (options.issue !== null) {
    updates
      .patch(`${path}/issues/comments/5001`)
      .reply(
        200,
        recordJson<{ body: string }>((body) => {
          seen.comments.push(body.body);
          return { id: 5001 };
        }),
      );
  }
  if (options.expectPullRequest) {
    // A GitHub outage while opening the pull request: the job is retried from its checkpoint.
    if (options.pullRequestFailures) nock(GITHUB_API).get(`${path}/pulls`).query(true).times(options.pullRequestFailures).reply(502, { message: "Bad Gateway" });
    nock(GITHUB_API)
      .get(`${path}/pulls`)
      .query(true)
      .reply(200, [])
      .post(`${path}/pulls`)
      .reply(
        201,
        recordJson((body) => {
          seen.pullRequest = body;
          return { number: 12, html_url: `https://github.com/${repo.owner}/${repo.name}/pull/12` };
        }),
      );
  }
  return seen;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface FollowUpCallsOptions {
  pullNumber: number;
  /** The pull request's head branch, which the follow-up works on. */
  branch: string;
  /** The branch's head when the web process announces the job: the check run's commit. */
  announcedSha: string;
  /** The branch's head when the worker starts: what it builds on. */
  workerSha: string;
  /** The issue comment that asked, when an issue comment did: it gets 👀. Reviews get none. */
  triggerCommentId?: number;
  /** What was said on the pull request, as the worker lists it for the prompt. */
  discussion?: { comments?: unknown[]; reviews?: unknown[]; reviewComments?: unknown[] };
}

/**
 * GitHub for one follow-up on a pull request, after the trigger has what it needs (the
 * sender's role, the pull request): the web process announces on the pull request (on the
 * branch's head), then the worker reads the branch's head again and the discussion. The
 * worker's own calls (token, check run and progress updates) are `nockWorkerCalls`'.
 */
export function nockFollowUpCalls(repo: RepoFixture, options: FollowUpCallsOptions) {
  const path = `/repos/${repo.owner}/${repo.name}`;
  const ref = `${path}/git/ref/${encodeURIComponent(`heads/${options.branch}`)}`;
  const seen = { announcedCheckRun: null as Record<string, unknown> | null };
  const scope = nock(GITHUB_API);
  if (options.triggerCommentId !== undefined) scope.post(`${path}/issues/comments/${options.triggerCommentId}/reactions`, { content: "eyes" }).reply(201, { id: 1 });
  // The two reads of the branch are registered in order, and before nockWorkerCalls' catch-all for agent/ branches.
  scope
    .post(`${path}/issues/${options.pullNumber}/comments`)
    .reply(201, { id: 5001 })
    .get(ref)
    .reply(200, { ref: `refs/heads/${options.branch}`, object: { sha: options.announcedSha, type: "commit" } })
    .post(`${path}/check-runs`)
    .reply(
      201,
      recordJson((body) => {
        seen.announcedCheckRun = body;
        return { id: 6001 };
      }),
    )
    .get(ref)
    .reply(200, { ref: `refs/heads/${options.branch}`, object: { sha: options.workerSha, type: "commit" } })
    .get(`${path}/issues/${options.pullNumber}/comments`)
    .query(true)
    .reply(200, options.discussion?.comments ?? [])
    .get(`${path}/pulls/${options.pullNumber}/reviews`)
    .query(true)
    .reply(200, options.discussion?.reviews ?? [])
    .get(`${path}/pulls/${options.pullNumber}/comments`)
    .query(true)
    .reply(200, options.discussion?.reviewComments ?? []);
  const worker = nockWorkerCalls(repo, { expectPullRequest: false });
  return { seen, worker };
}

/** The comments of a submitted review, as the web process lists them (`pulls.listCommentsForReview`). */
export function nockReviewTargets(repo: RepoFixture, review: { pullNumber: number; reviewId: number; comments: unknown[] }): nock.Scope {
  return nock(GITHUB_API).get(`/repos/${repo.owner}/${repo.name}/pulls/${review.pullNumber}/reviews/${review.reviewId}/comments`).query({ per_page: 100 }).reply(200, review.comments);
}

/**
 * One reply in each review thread (`pulls.createReplyForReviewComment`), by the comment
 * replied to; recorded in the order they are posted. A second reply to the same thread
 * finds no mock and fails.
 */
export function nockReviewReplies(repo: RepoFixture, pullNumber: number, commentIds: readonly number[]): Array<{ commentId: number; body: string }> {
  const replies: Array<{ commentId: number; body: string }> = [];
  for (const [index, commentId] of commentIds.entries()) {
    nock(GITHUB_API)
      .post(`/repos/${repo.owner}/${repo.name}/pulls/${pullNumber}/comments/${commentId}/replies`)
      .reply(
        201,
        recordJson<{ body: string }>((body) => {
          replies.push({ commentId, body: body.body });
          return { id: 9_900 + index, in_reply_to_id: commentId };
        }),
      );
  }
  return replies;
}
