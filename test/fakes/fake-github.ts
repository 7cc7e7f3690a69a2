/**
 * A fake GitHub REST API over real HTTP, for tests that run the app as a child process
 * (nock cannot reach into one). The app finds it through Probot's GHE_HOST/GHE_PROTOCOL:
 * the API lives under `/api/v3`, as on GitHub Enterprise Server.
 *
 * It serves what the app calls, keeps the little state those calls need (tokens it
 * issued, comments, check runs, pull requests), and records every request, unknown ones
 * included (answered 404 with `route: null`), so a test can assert that nothing else was
 * called. Authentication is checked the way GitHub would reject it: `/app/*` needs a
 * well-formed RS256 JWT naming the app (the signature is not verified), everything else
 * an installation token this fake issued.
 *
 * Longer than most files: one route table and its handlers read best side by side.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HANG_MS } from "../support/patience.ts";

export type RouteName =
  | "apps.createInstallationAccessToken"
  | "apps.listWebhookDeliveries"
  | "repos.getCollaboratorPermissionLevel"
  | "reactions.createForIssueComment"
  | "reactions.createForIssue"
  | "issues.get"
  | "issues.listComments"
  | "checks.listForRef"
  | "actions.downloadJobLogsForWorkflowRun"
  /** Not the API: an issue's attachment link on the web host, and the signed storage it redirects to. */
  | "attachments.get"
  | "attachments.storage"
  | "issues.createComment"
  | "issues.updateComment"
  | "git.getRef"
  | "checks.create"
  | "checks.update"
  | "pulls.list"
  | "pulls.create"
  | "pulls.update"
  | "repos.getContent";

export interface FakeRequest {
  method: string;
  /** Path under the API base, segments decoded (`/repos/o/r/git/ref/heads/main`); the raw path when outside `/api/v3`. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body; null when there was none. */
  body: unknown;
  /** Which endpoint answered (Octokit's method name), null for anything the fake does not serve. */
  route: RouteName | null;
  /** How the request authenticated. */
  auth: "jwt" | "installation" | "none" | "invalid";
  /** The status the fake answered. */
  status: number;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface ScriptedFailure {
  route: RouteName;
  /** The first `times` requests to `route` fail. */
  times: number;
  /** Default 502. */
  status?: number;
}

/** GitHub down from now on: every request answered with `status`, or never answered at all (`"hang"`). */
export type Outage = { status: number } | "hang";

export interface FakeGitHubOptions {
  /** The `iss` app JWTs must carry; any positive id when unset. */
  appId?: number;
  /** `role_name` per login; null answers 404 (not a collaborator). Others get `defaultRole`. */
  roles?: Record<string, string | null>;
  /** Default "write". */
  defaultRole?: string;
  /** Head SHA per branch name, for `git.getRef`; other branches go to `branchesFrom`, else answer 404. */
  branches?: Record<string, string>;
  /**
   * Head SHA of a branch not in `branches`, looked up when asked (undefined: no such branch):
   * tests read the bare remote, so branches the app pushed are found as GitHub would find them.
   */
  branchesFrom?: (name: string) => string | undefined;
  /** A file's text at `ref` (a branch or commit), for `repos.getContent`; undefined answers 404. */
  filesFrom?: (ref: string, path: string) => string | undefined;
  failures?: ScriptedFailure[];
  /** Issues by number, for `issues.get` and `issues.listComments`; any other number is an issue with no description and no comments. */
  issues?: Record<number, FakeIssue>;
  /**
   * Files behind attachment links (`<origin>/user-attachments/assets/<id>`), by id. As on
   * GitHub for a private repository, a link answers only an installation token, with a
   * redirect to signed storage that needs none.
   */
  attachments?: Record<string, { contentType: string; bytes: Buffer }>;
  /** Other apps' check runs of a commit (CI), for `checks.listForRef`; the app's own are listed too. */
  checkRunsFrom?: (ref: string) => FakeForeignCheckRun[];
  /** GitHub Actions job logs by job id (a check run of the `github-actions` app has its job's id). */
  jobLogs?: Record<number, string>;
}

export interface FakeForeignCheckRun {
  id: number;
  name: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  app: { id: number; slug: string };
  output?: { title: string | null; summary: string | null; text: string | null };
}

/** GitHub Actions' app id on github.com. */
export const ACTIONS_APP = { id: 15368, slug: "github-actions" };

export interface FakeIssue {
  title: string;
  body: string;
  /** Default "octocat". */
  author?: string;
  comments?: Array<{ id: number; login: string; body: string; createdAt?: string }>;
  pullRequest?: boolean;
}

export interface FakeComment {
  id: number;
  repo: string;
  issueNumber: number;
  body: string;
}

export interface FakeCheckRun {
  id: number;
  repo: string;
  /** Every field sent so far, later updates over earlier ones. */
  fields: Record<string, unknown>;
}

export interface FakePullRequest {
  number: number;
  repo: string;
  html_url: string;
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  state: "open" | "closed";
}

export interface FakeGitHub {
  /** `127.0.0.1:PORT`, for GHE_HOST. */
  host: string;
  /** `http://127.0.0.1:PORT/api/v3`. */
  apiUrl: string;
  requests: FakeRequest[];
  comments: Map<number, FakeComment>;
  checkRuns: Map<number, FakeCheckRun>;
  pullRequests: FakePullRequest[];
  /** Installation tokens issued, in order (Probot's own and repository-scoped ones). */
  tokens: string[];
  /** Start (or, with null, end) an outage: requests are still recorded, a hung one with status 0. */
  setOutage(outage: Outage | null): void;
  /**
   * The next request to `route` is served (a comment or pull request is created) but its
   * answer is held until `release()`: the moment a process dies having asked GitHub for
   * something that happened, before it heard so.
   */
  holdReply(route: RouteName): HeldReply;
  /** Resolve with the first request (already recorded or still to come) that `predicate` accepts. */
  waitFor(predicate: (request: FakeRequest) => boolean, timeoutMs?: number): Promise<FakeRequest>;
  close(): Promise<void>;
}

export interface HeldReply {
  /** Resolves with the request once it has been served and its answer is being held. */
  reached: Promise<FakeRequest>;
  /** Send the held answer (to a client that may be gone). */
  release(): void;
}

interface Matched {
  name: RouteName;
  params: Record<string, string>;
}

interface Reply {
  status: number;
  body: unknown;
  /** `body` is plain text (a log), not JSON. */
  text?: boolean;
}

const ROUTES: Array<{ name: RouteName; method: string; pattern: string }> = [
  { name: "apps.createInstallationAccessToken", method: "POST", pattern: "/app/installations/:installation_id/access_tokens" },
  // The web process's redelivery reaper asks every five minutes of the clock, so a test may see it.
  { name: "apps.listWebhookDeliveries", method: "GET", pattern: "/app/hook/deliveries" },
  { name: "repos.getCollaboratorPermissionLevel", method: "GET", pattern: "/repos/:owner/:repo/collaborators/:username/permission" },
  { name: "reactions.createForIssueComment", method: "POST", pattern: "/repos/:owner/:repo/issues/comments/:comment_id/reactions" },
  { name: "reactions.createForIssue", method: "POST", pattern: "/repos/:owner/:repo/issues/:issue_number/reactions" },
  { name: "issues.createComment", method: "POST", pattern: "/repos/:owner/:repo/issues/:issue_number/comments" },
  { name: "issues.listComments", method: "GET", pattern: "/repos/:owner/:repo/issues/:issue_number/comments" },
  { name: "issues.get", method: "GET", pattern: "/repos/:owner/:repo/issues/:issue_number" },
  { name: "issues.updateComment", method: "PATCH", pattern: "/repos/:owner/:repo/issues/comments/:comment_id" },
  // Octokit encodes the slash of `heads/main` (`heads%2Fmain`); segments are decoded before matching.
  { name: "git.getRef", method: "GET", pattern: "/repos/:owner/:repo/git/ref/:ref" },
  { name: "checks.create", method: "POST", pattern: "/repos/:owner/:repo/check-runs" },
  { name: "checks.update", method: "PATCH", pattern: "/repos/:owner/:repo/check-runs/:check_run_id" },
  { name: "checks.listForRef", method: "GET", pattern: "/repos/:owner/:repo/commits/:ref/check-runs" },
  { name: "actions.downloadJobLogsForWorkflowRun", method: "GET", pattern: "/repos/:owner/:repo/actions/jobs/:job_id/logs" },
  { name: "pulls.list", method: "GET", pattern: "/repos/:owner/:repo/pulls" },
  { name: "pulls.create", method: "POST", pattern: "/repos/:owner/:repo/pulls" },
  { name: "pulls.update", method: "PATCH", pattern: "/repos/:owner/:repo/pulls/:pull_number" },
  // `:path*` takes the rest of the path, slashes included (`.github/agent.yml`).
  { name: "repos.getContent", method: "GET", pattern: "/repos/:owner/:repo/contents/:path*" },
];

const API_PREFIX = "/api/v3";
const NOT_FOUND = { message: "Not Found", documentation_url: "https://docs.github.com/rest" };

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const requests: FakeRequest[] = [];
  const listeners = new Set<(request: FakeRequest) => void>();
  const failuresLeft = new Map<RouteName, { times: number; status: number }>((options.failures ?? []).map((failure) => [failure.route, { times: failure.times, status: failure.status ?? 502 }]));
  const state = {
    tokens: [] as string[],
    comments: new Map<number, FakeComment>(),
    checkRuns: new Map<number, FakeCheckRun>(),
    pullRequests: [] as FakePullRequest[],
    nextCommentId: 5001,
    nextCheckRunId: 6001,
    nextPullNumber: 100,
    nextReactionId: 1,
  };
  let origin = "";
  let storageOrigin = "";
  let outage: Outage | null = null;
  const holds = new Map<RouteName, { reached: (request: FakeRequest) => void; released: Promise<void> }>();

  // Signed storage for attachments is another origin, as on GitHub (a CDN or S3): the app must not send it the token.
  const storage = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const record: FakeRequest = { method: req.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams), body: null, route: null, auth: "none", status: 0, at: Date.now() };
    if (/^\/attachment-storage\/x\/[^/]+$/.test(url.pathname)) serveAttachment(record, url, req.headers.authorization, res);
    else res.writeHead((record.status = 404)).end();
    requests.push(record);
    for (const listener of listeners) listener(record);
  });

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      console.error("fake GitHub: handler failed", error);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const text = await readBody(req);
    const record: FakeRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: null,
      route: null,
      auth: "none",
      status: 0,
      at: Date.now(),
    };
    if (outage === "hang") {
      // Never answered: the connection stays open until the client gives up or close() ends it.
      requests.push(record);
      for (const listener of listeners) listener(record);
      return;
    }
    if (!outage && url.pathname.startsWith("/user-attachments/assets/")) {
      serveAttachment(record, url, req.headers.authorization, res);
      requests.push(record);
      for (const listener of listeners) listener(record);
      return;
    }
    const reply = outage ? { status: outage.status, body: { message: `outage (HTTP ${outage.status})` } } : answer(record, url.pathname, text, req.headers.authorization);
    record.status = reply.status;
    requests.push(record);
    const hold = record.route ? holds.get(record.route) : undefined;
    if (hold && record.route) {
      holds.delete(record.route);
      hold.reached(record);
      await hold.released;
    }
    if (reply.text) res.writeHead(reply.status, { "content-type": "text/plain; charset=utf-8" }).end(String(reply.body));
    else res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(reply.body));
    for (const listener of listeners) listener(record);
  }

  function answer(record: FakeRequest, rawPath: string, text: string, authorization: string | undefined): Reply {
    if (!rawPath.startsWith(`${API_PREFIX}/`)) return { status: 404, body: NOT_FOUND };
    const segments = rawPath.slice(API_PREFIX.length).split("/").map(safeDecode);
    record.path = segments.join("/");
    if (text !== "") {
      try {
        record.body = JSON.parse(text);
      } catch {
        return { status: 400, body: { message: "Problems parsing JSON" } };
      }
    }
    const matched = matchRoute(record.method, segments);
    if (!matched) return { status: 404, body: NOT_FOUND };
    record.route = matched.name;
    const isAppRoute = record.path.startsWith("/app/");
    record.auth = authenticate(authorization, isAppRoute);
    if (record.auth === "invalid" || record.auth === "none") {
      return { status: 401, body: { message: isAppRoute ? "A JSON web token could not be decoded" : "Bad credentials" } };
    }
    const failure = failuresLeft.get(matched.name);
    if (failure && failure.times > 0) {
      failure.times--;
      return { status: failure.status, body: { message: `scripted failure (HTTP ${failure.status})` } };
    }
    return serve(matched, record);
  }

  /** The web host's attachment link (token only, answered with a redirect) and the storage behind it (no token). */
  function serveAttachment(record: FakeRequest, url: URL, authorization: string | undefined, res: ServerResponse): void {
    const [, kind, , id = ""] = url.pathname.split("/");
    const file = options.attachments?.[id];
    if (kind === "user-attachments") {
      record.route = "attachments.get";
      record.auth = authenticate(authorization, false);
      record.status = file && record.auth === "installation" ? 302 : 404;
      if (record.status === 302) res.writeHead(302, { location: `${storageOrigin}/attachment-storage/x/${id}?signature=fake` }).end();
      else res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      return;
    }
    record.route = "attachments.storage";
    record.auth = authorization ? authenticate(authorization, false) : "none";
    // Signed storage rejects a request that carries credentials it did not ask for, as S3 does.
    record.status = file && record.auth === "none" ? 200 : 400;
    if (record.status === 200) res.writeHead(200, { "content-type": file!.contentType, "content-length": String(file!.bytes.length) }).end(file!.bytes);
    else res.writeHead(400, { "content-type": "text/plain" }).end("Bad Request");
  }

  function issueOf(number: number): FakeIssue {
    return options.issues?.[number] ?? { title: `Issue ${number}`, body: "" };
  }

  function authenticate(header: string | undefined, isAppRoute: boolean): FakeRequest["auth"] {
    if (!header) return "none";
    const [scheme = "", credential = ""] = header.split(" ");
    if (isAppRoute) return scheme.toLowerCase() === "bearer" && isAppJwt(credential, options.appId) ? "jwt" : "invalid";
    return ["token", "bearer"].includes(scheme.toLowerCase()) && state.tokens.includes(credential) ? "installation" : "invalid";
  }

  function serve({ name, params }: Matched, record: FakeRequest): Reply {
    const repo = `${params.owner}/${params.repo}`;
    const body = (record.body ?? {}) as Record<string, unknown>;
    switch (name) {
      case "apps.createInstallationAccessToken": {
        const token = `ghs_${randomBytes(18).toString("hex")}`;
        state.tokens.push(token);
        return {
          status: 201,
          body: {
            token,
            expires_at: new Date(Date.now() + 3_600_000).toISOString(),
            permissions: body.permissions ?? { contents: "write", issues: "write", pull_requests: "write", checks: "write", metadata: "read" },
            repository_selection: body.repository_ids ? "selected" : "all",
          },
        };
      }
      case "apps.listWebhookDeliveries":
        // No failed deliveries: everything the tests send reaches the app directly.
        return { status: 200, body: [] };
      case "repos.getCollaboratorPermissionLevel": {
        const login = params.username!;
        const role = login in (options.roles ?? {}) ? options.roles![login]! : (options.defaultRole ?? "write");
        if (role === null) return { status: 404, body: NOT_FOUND };
        return { status: 200, body: { permission: legacyPermissionOf(role), role_name: role, user: { login } } };
      }
      case "issues.get": {
        const number = Number(params.issue_number);
        const issue = issueOf(number);
        return {
          status: 200,
          body: {
            number,
            title: issue.title,
            body: issue.body,
            state: "open",
            user: { login: issue.author ?? "octocat", type: "User" },
            html_url: `${origin}/${repo}/${issue.pullRequest ? "pull" : "issues"}/${number}`,
            created_at: "2026-01-01T00:00:00Z",
            ...(issue.pullRequest ? { pull_request: { merged_at: null } } : {}),
          },
        };
      }
      case "issues.listComments": {
        const number = Number(params.issue_number);
        const people = (issueOf(number).comments ?? []).map((comment) => {
          const at = comment.createdAt ?? "2026-01-01T00:00:00Z";
          return { id: comment.id, body: comment.body, user: { login: comment.login, type: "User" }, created_at: at, updated_at: at };
        });
        // The app's own comments are there too, as GitHub lists them: by its bot.
        const app = [...state.comments.values()]
          .filter((comment) => comment.repo === repo && comment.issueNumber === number)
          .map((comment) => ({ id: comment.id, body: comment.body, user: { login: "running-agent[bot]", type: "Bot" }, performed_via_github_app: { id: options.appId ?? 1, slug: "running-agent" }, created_at: new Date().toISOString(), updated_at: new Date().toISOString() }));
        return { status: 200, body: [...people, ...app] };
      }
      case "reactions.createForIssue":
      case "reactions.createForIssueComment":
        return { status: 201, body: { id: state.nextReactionId++, content: body.content } };
      case "issues.createComment": {
        const comment = { id: state.nextCommentId++, repo, issueNumber: Number(params.issue_number), body: String(body.body ?? "") };
        state.comments.set(comment.id, comment);
        return { status: 201, body: { id: comment.id, body: comment.body, html_url: `${origin}/${repo}/issues/${comment.issueNumber}#issuecomment-${comment.id}` } };
      }
      case "issues.updateComment": {
        const comment = state.comments.get(Number(params.comment_id));
        if (!comment || comment.repo !== repo) return { status: 404, body: NOT_FOUND };
        comment.body = String(body.body ?? comment.body);
        return { status: 200, body: { id: comment.id, body: comment.body } };
      }
      case "git.getRef": {
        const branch = params.ref!.replace(/^heads\//, "");
        const sha = params.ref!.startsWith("heads/") ? (options.branches?.[branch] ?? options.branchesFrom?.(branch)) : undefined;
        if (!sha) return { status: 404, body: NOT_FOUND };
        return { status: 200, body: { ref: `refs/heads/${branch}`, object: { sha, type: "commit" } } };
      }
      case "checks.create": {
        const checkRun = { id: state.nextCheckRunId++, repo, fields: { ...body } };
        state.checkRuns.set(checkRun.id, checkRun);
        return { status: 201, body: { id: checkRun.id, ...checkRun.fields } };
      }
      case "checks.update": {
        const checkRun = state.checkRuns.get(Number(params.check_run_id));
        if (!checkRun || checkRun.repo !== repo) return { status: 404, body: NOT_FOUND };
        Object.assign(checkRun.fields, body);
        return { status: 200, body: { id: checkRun.id, ...checkRun.fields } };
      }
      case "pulls.list": {
        const { head, base, state: wanted = "open" } = record.query;
        const found = state.pullRequests.filter(
          (pull) => pull.repo === repo && (wanted === "all" || pull.state === wanted) && (!head || `${params.owner}:${pull.head}` === head) && (!base || pull.base === base),
        );
        return { status: 200, body: found.map(pullJson) };
      }
      case "pulls.create": {
        if (!body.head || !body.base || !body.title) return { status: 422, body: { message: "Validation Failed" } };
        const number = state.nextPullNumber++;
        const pull: FakePullRequest = {
          number,
          repo,
          html_url: `${origin}/${repo}/pull/${number}`,
          head: String(body.head),
          base: String(body.base),
          title: String(body.title),
          body: String(body.body ?? ""),
          draft: body.draft === true,
          state: "open",
        };
        state.pullRequests.push(pull);
        return { status: 201, body: pullJson(pull) };
      }
      case "repos.getContent": {
        const text = options.filesFrom?.(record.query.ref ?? "HEAD", params.path!);
        if (text === undefined) return { status: 404, body: NOT_FOUND };
        return { status: 200, body: { type: "file", path: params.path, encoding: "base64", content: Buffer.from(text).toString("base64") } };
      }
      case "checks.listForRef": {
        const ours = [...state.checkRuns.values()]
          .filter((checkRun) => checkRun.repo === repo && checkRun.fields.head_sha === params.ref)
          .map((checkRun) => ({ id: checkRun.id, name: checkRun.fields.name, status: checkRun.fields.status, conclusion: checkRun.fields.conclusion ?? null, external_id: checkRun.fields.external_id ?? null, app: { id: options.appId ?? 1, slug: "running-agent" }, output: checkRun.fields.output ?? null }));
        const runs = [...ours, ...(options.checkRunsFrom?.(params.ref!) ?? [])].filter((run) => !record.query.check_name || run.name === record.query.check_name);
        return { status: 200, body: { total_count: runs.length, check_runs: runs } };
      }
      case "actions.downloadJobLogsForWorkflowRun": {
        const log = options.jobLogs?.[Number(params.job_id)];
        return log === undefined ? { status: 404, body: NOT_FOUND } : { status: 200, body: log, text: true };
      }
      case "attachments.get":
      case "attachments.storage":
        // Served outside the API (serveAttachment); never routed here.
        return { status: 404, body: NOT_FOUND };
      case "pulls.update": {
        const pull = state.pullRequests.find((candidate) => candidate.repo === repo && candidate.number === Number(params.pull_number));
        if (!pull) return { status: 404, body: NOT_FOUND };
        if (typeof body.title === "string") pull.title = body.title;
        if (typeof body.body === "string") pull.body = body.body;
        return { status: 200, body: pullJson(pull) };
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => storage.listen(0, "127.0.0.1", resolve));
  storageOrigin = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  origin = `http://${host}`;

  return {
    host,
    apiUrl: `${origin}${API_PREFIX}`,
    requests,
    comments: state.comments,
    checkRuns: state.checkRuns,
    pullRequests: state.pullRequests,
    tokens: state.tokens,
    setOutage(next) {
      outage = next;
    },
    holdReply(route) {
      let release = () => {};
      let reached = (_request: FakeRequest) => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      const reachedPromise = new Promise<FakeRequest>((resolve) => (reached = resolve));
      holds.set(route, { reached, released });
      return { reached: reachedPromise, release };
    },
    waitFor(predicate, timeoutMs = HANG_MS) {
      const seen = requests.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`fake GitHub: no matching request within ${timeoutMs} ms; received:\n${describeRequests(requests)}`));
        }, timeoutMs);
        const listener = (request: FakeRequest) => {
          if (!predicate(request)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(request);
        };
        listeners.add(listener);
      });
    },
    async close() {
      server.closeAllConnections();
      storage.closeAllConnections();
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), new Promise<void>((resolve) => storage.close(() => resolve()))]);
    },
  };
}

/** One line per request, for failure messages: `POST /repos/o/r/pulls → 201`. */
/**
 * Requests the app should not have made: to an endpoint the fake does not know, or
 * answered with an error. The worker's "does the agent branch exist yet?" lookup is
 * expected to be answered 404, so it is not one of them.
 */
export function unexpectedRequests(requests: readonly FakeRequest[]): FakeRequest[] {
  return requests.filter((request) => request.route === null || (request.status >= 400 && !isAgentBranchLookup(request)));
}

function isAgentBranchLookup(request: FakeRequest): boolean {
  return request.route === "git.getRef" && request.status === 404 && request.path.includes("/heads/agent/");
}

export function describeRequests(requests: FakeRequest[]): string {
  if (requests.length === 0) return "  (none)";
  return requests.map((request) => `  ${request.method} ${request.path} → ${request.status}${request.route ? "" : " (unknown endpoint)"}`).join("\n");
}

/**
 * A JWT as GitHub accepts for an app: three base64url parts, header `{alg: RS256}`, a
 * payload whose `iss` is the app id and whose lifetime is at most ten minutes and not
 * over. The signature is not checked: the fake has no public key, and the tests care
 * that the app authenticates as an app, not that RSA works.
 */
export function isAppJwt(token: string, appId?: number): boolean {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) return false;
  const header = decodeJson(parts[0]!);
  const payload = decodeJson(parts[1]!);
  if (!header || !payload || header.alg !== "RS256") return false;
  const { iat, exp, iss } = payload;
  if (typeof iat !== "number" || typeof exp !== "number") return false;
  const now = Date.now() / 1000;
  // GitHub allows clock drift by backdating iat; Probot's JWTs start 30 s in the past.
  if (exp <= now || iat > now + 60 || exp - iat > 660) return false;
  if (appId === undefined) return Number(iss) > 0;
  return String(iss) === String(appId);
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function matchRoute(method: string, segments: string[]): Matched | null {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const pattern = route.pattern.split("/");
    const rest = pattern.at(-1)!.endsWith("*");
    if (rest ? segments.length < pattern.length : pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    if (rest) params[pattern.at(-1)!.slice(1, -1)] = segments.slice(pattern.length - 1).join("/");
    const matches = pattern.every((part, index) => {
      if (rest && index === pattern.length - 1) return true;
      const segment = segments[index]!;
      if (part.startsWith(":")) {
        params[part.slice(1)] = segment;
        return segment !== "";
      }
      return part === segment;
    });
    if (matches) return { name: route.name, params };
  }
  return null;
}

/** GitHub's legacy `permission` field: maintain reads as write, triage as read. */
function legacyPermissionOf(role: string): string {
  if (role === "maintain") return "write";
  if (role === "triage") return "read";
  return role;
}

function pullJson(pull: FakePullRequest) {
  return {
    number: pull.number,
    html_url: pull.html_url,
    state: pull.state,
    title: pull.title,
    body: pull.body,
    draft: pull.draft,
    head: { ref: pull.head },
    base: { ref: pull.base },
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
