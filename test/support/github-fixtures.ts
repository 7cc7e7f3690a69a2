import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
type Example = { action?: string; [key: string]: unknown };
const catalog = require("@octokit/webhooks-examples/api.github.com/index.json") as Array<{ name: string; examples: Example[] }>;

/** A real payload from GitHub's examples, deep-copied so tests can adjust it freely. */
function examplePayload(event: string, action: string, pick: (example: Example) => boolean = () => true): Record<string, unknown> {
  const example = catalog.find((entry) => entry.name === event)?.examples.find((candidate) => candidate.action === action && pick(candidate));
  if (!example) throw new Error(`no ${event}.${action} example in @octokit/webhooks-examples`);
  return structuredClone(example) as Record<string, unknown>;
}

export interface RepoFixture {
  id: number;
  owner: string;
  name: string;
  cloneUrl: string;
  defaultBranch: string;
}

export const INSTALLATION_ID = 4242;

export function testRepo(overrides: Partial<RepoFixture> = {}): RepoFixture {
  return { id: 1296269, owner: "octo-org", name: "hello-world", cloneUrl: "https://github.com/octo-org/hello-world.git", defaultBranch: "main", ...overrides };
}

function applyRepo(payload: Record<string, unknown>, repo: RepoFixture): void {
  const repository = payload.repository as Record<string, unknown>;
  Object.assign(repository, {
    id: repo.id,
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    clone_url: repo.cloneUrl,
    default_branch: repo.defaultBranch,
    owner: { ...(repository.owner as object), login: repo.owner },
  });
  payload.installation = { id: INSTALLATION_ID, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==" };
}

export interface Sender {
  login: string;
  id: number;
  type?: "User" | "Bot";
}

export function issueCommentPayload(options: { body: string; repo?: RepoFixture; issueNumber?: number; issueTitle?: string; sender?: Sender; commentId?: number; onPullRequest?: boolean }) {
  const payload = examplePayload("issue_comment", "created", (example) => !(example.issue as { pull_request?: unknown }).pull_request);
  applyRepo(payload, options.repo ?? testRepo());
  const sender = { ...(payload.sender as object), login: options.sender?.login ?? "octocat", id: options.sender?.id ?? 583231, type: options.sender?.type ?? "User" };
  payload.sender = sender;
  const issue = payload.issue as Record<string, unknown>;
  issue.number = options.issueNumber ?? 7;
  issue.title = options.issueTitle ?? "Add a greeting function";
  if (options.onPullRequest) issue.pull_request = { url: "https://api.github.com/repos/x/y/pulls/7" };
  else delete issue.pull_request;
  const comment = payload.comment as Record<string, unknown>;
  comment.body = options.body;
  comment.id = options.commentId ?? 9001;
  comment.user = sender;
  return payload;
}

export function issueLabeledPayload(options: { label: string; repo?: RepoFixture; issueNumber?: number; issueTitle?: string; issueBody?: string; sender?: Sender }) {
  const payload = examplePayload("issues", "labeled");
  applyRepo(payload, options.repo ?? testRepo());
  payload.sender = { ...(payload.sender as object), login: options.sender?.login ?? "octocat", id: options.sender?.id ?? 583231, type: options.sender?.type ?? "User" };
  payload.label = { ...(payload.label as object), name: options.label };
  const issue = payload.issue as Record<string, unknown>;
  issue.number = options.issueNumber ?? 7;
  issue.title = options.issueTitle ?? "Add a greeting function";
  issue.body = options.issueBody ?? "It should say hello.";
  return payload;
}

export function signPayload(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** POST a signed delivery to a running app, as GitHub does. */
export async function postWebhook(url: string, options: { event: string; payload: unknown; secret: string; deliveryId?: string }): Promise<Response> {
  const body = JSON.stringify(options.payload);
  return fetch(`${url}/api/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": options.event,
      "x-github-delivery": options.deliveryId ?? randomUUID(),
      "x-hub-signature-256": signPayload(options.secret, body),
    },
    body,
  });
}

let cachedKey: string | undefined;
/** A throwaway RSA key for the app's JWTs; GitHub (nock) never checks it. */
export function testPrivateKey(): string {
  cachedKey ??= generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  return cachedKey;
}

export interface PullRequestFixture {
  number?: number;
  title?: string;
  body?: string | null;
  state?: "open" | "closed";
  headRef?: string;
  /** The head branch's repository: the base repository's id unless set; null for a deleted fork. */
  headRepoId?: number | null;
  author?: Sender;
}

/** Adjust the `pull_request` object of a real example to a pull request of `repo`. */
function applyPullRequest(payload: Record<string, unknown>, repo: RepoFixture, options: PullRequestFixture): Record<string, unknown> {
  const pullRequest = payload.pull_request as Record<string, unknown>;
  const number = options.number ?? 12;
  const head = pullRequest.head as Record<string, unknown>;
  const headRepoId = options.headRepoId === undefined ? repo.id : options.headRepoId;
  Object.assign(pullRequest, {
    number,
    title: options.title ?? "Add a greeting function",
    body: options.body === undefined ? "Adds greet()." : options.body,
    state: options.state ?? "open",
    html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${number}`,
    user: { ...(pullRequest.user as object), login: options.author?.login ?? "octocat", id: options.author?.id ?? 583231, type: options.author?.type ?? "User" },
    head: { ...head, ref: options.headRef ?? "agent/7-add-greeting", repo: headRepoId === null ? null : { ...(head.repo as object), id: headRepoId } },
  });
  return pullRequest;
}

function applySender(payload: Record<string, unknown>, sender: Sender | undefined): Record<string, unknown> {
  payload.sender = { ...(payload.sender as object), login: sender?.login ?? "octocat", id: sender?.id ?? 583231, type: sender?.type ?? "User" };
  return payload.sender as Record<string, unknown>;
}

/** `pull_request_review_comment.created`, from the real example that carries the line fields. */
export function reviewCommentPayload(options: {
  body: string;
  repo?: RepoFixture;
  pullRequest?: PullRequestFixture;
  sender?: Sender;
  commentId?: number;
  /** The review the comment belongs to; GitHub always sets it, null mimics older payloads. */
  reviewId?: number | null;
  /** Other fields of the comment: `line`, `start_line`, `diff_hunk`, `path`… */
  fields?: Record<string, unknown>;
}) {
  const payload = examplePayload("pull_request_review_comment", "created", (example) => "line" in (example.comment as object));
  const repo = options.repo ?? testRepo();
  applyRepo(payload, repo);
  const sender = applySender(payload, options.sender);
  applyPullRequest(payload, repo, options.pullRequest ?? {});
  const comment = payload.comment as Record<string, unknown>;
  Object.assign(comment, {
    body: options.body,
    id: options.commentId ?? 9101,
    user: sender,
    pull_request_review_id: options.reviewId === undefined ? 8801 : options.reviewId,
    ...options.fields,
  });
  return payload;
}

/** `pull_request_review.submitted` with a summary `body`. */
export function reviewSubmittedPayload(options: { body: string | null; repo?: RepoFixture; pullRequest?: PullRequestFixture; sender?: Sender; reviewId?: number; submittedAt?: string }) {
  const payload = examplePayload("pull_request_review", "submitted");
  const repo = options.repo ?? testRepo();
  applyRepo(payload, repo);
  const sender = applySender(payload, options.sender);
  applyPullRequest(payload, repo, options.pullRequest ?? {});
  Object.assign(payload.review as Record<string, unknown>, {
    body: options.body,
    id: options.reviewId ?? 8801,
    user: sender,
    ...(options.submittedAt ? { submitted_at: options.submittedAt } : {}),
  });
  return payload;
}

/**
 * `pull_request.closed` (merged or not), `.reopened` or `.synchronize` (a push; `after` is
 * the new head) for pull request `number`, from GitHub's examples.
 */
export function pullRequestEventPayload(options: { action: "closed" | "reopened" | "synchronize"; number: number; merged?: boolean; at?: string; after?: string; repo?: RepoFixture; sender?: Sender }) {
  const payload = examplePayload("pull_request", options.action);
  const repo = options.repo ?? testRepo();
  applyRepo(payload, repo);
  const sender = applySender(payload, options.sender);
  const pullRequest = applyPullRequest(payload, repo, { number: options.number, state: options.action === "closed" ? "closed" : "open" });
  const at = options.at ?? new Date().toISOString();
  Object.assign(pullRequest, {
    merged: options.merged === true,
    merged_at: options.merged ? at : null,
    merged_by: options.merged ? sender : null,
    closed_at: options.action === "closed" ? at : null,
  });
  if (options.action === "synchronize") payload.after = options.after ?? "0123456789abcdef0123456789abcdef01234567";
  return payload;
}

/** `check_suite.completed`: another app's (GitHub Actions', unless `app` says otherwise) checks finished on `headSha`. */
export function checkSuiteCompletedPayload(options: { headSha: string; conclusion: string; app?: { id: number; slug: string; name?: string }; repo?: RepoFixture }) {
  const payload = examplePayload("check_suite", "completed");
  applyRepo(payload, options.repo ?? testRepo());
  const app = options.app ?? { id: 15368, slug: "github-actions", name: "GitHub Actions" };
  Object.assign(payload.check_suite as Record<string, unknown>, { head_sha: options.headSha, conclusion: options.conclusion, status: "completed", app: { ...((payload.check_suite as { app: object }).app), ...app } });
  return payload;
}

/** `workflow_run.completed` on `headSha`; `headRepoId` other than the repository's is a fork's run. */
export function workflowRunCompletedPayload(options: { headSha: string; conclusion: string; headRepoId?: number; repo?: RepoFixture }) {
  const payload = examplePayload("workflow_run", "completed");
  const repo = options.repo ?? testRepo();
  applyRepo(payload, repo);
  const run = payload.workflow_run as Record<string, unknown>;
  Object.assign(run, { head_sha: options.headSha, conclusion: options.conclusion, status: "completed", name: "CI", head_repository: { ...(run.head_repository as object), id: options.headRepoId ?? repo.id } });
  return payload;
}

/** `check_run.requested_action`: someone pressed a button (`identifier`) on one of the app's check runs. */
export function checkRunActionPayload(options: { identifier: string; checkRunId: number; repo?: RepoFixture; sender?: Sender }) {
  const payload = examplePayload("check_run", "requested_action");
  applyRepo(payload, options.repo ?? testRepo());
  applySender(payload, options.sender);
  (payload.check_run as Record<string, unknown>).id = options.checkRunId;
  payload.requested_action = { identifier: options.identifier };
  return payload;
}

/**
 * A review comment as the REST API lists it (`pulls.listCommentsForReview`, `pulls.listReviewComments`):
 * the webhook example's comment, which has the same shape, pointed at `path` and `line`.
 */
export function reviewCommentJson(options: {
  id: number;
  body: string;
  path: string;
  line: number | null;
  /** First line of a multi-line comment. */
  startLine?: number | null;
  diffHunk: string;
  reviewId?: number | null;
  /** The thread's first comment, when this one is a reply in it. */
  inReplyToId?: number;
  author?: Sender;
  createdAt?: string;
}): Record<string, unknown> {
  const comment = examplePayload("pull_request_review_comment", "created", (example) => "line" in (example.comment as object)).comment as Record<string, unknown>;
  const at = options.createdAt ?? new Date().toISOString();
  const startLine = options.startLine ?? null;
  Object.assign(comment, {
    id: options.id,
    body: options.body,
    path: options.path,
    line: options.line,
    original_line: options.line,
    start_line: startLine,
    original_start_line: startLine,
    start_side: startLine === null ? null : "RIGHT",
    side: "RIGHT",
    diff_hunk: options.diffHunk,
    pull_request_review_id: options.reviewId === undefined ? 8801 : options.reviewId,
    user: { ...(comment.user as object), login: options.author?.login ?? "octocat", id: options.author?.id ?? 583231, type: options.author?.type ?? "User" },
    created_at: at,
    updated_at: at,
  });
  if (options.inReplyToId !== undefined) comment.in_reply_to_id = options.inReplyToId;
  return comment;
}
