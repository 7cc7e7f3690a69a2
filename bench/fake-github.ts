import nock from "nock";
import { GITHUB_API, issueJson, nockInstallationToken, nockRole, recordJson, REPO_TOKEN } from "../test/support/github-api.ts";
import { INSTALLATION_ID, type RepoFixture } from "../test/support/github-fixtures.ts";

/** When GitHub saw each call that matters to a user, by the number it is about. */
export interface GitHubTimeline {
  /** 👀 on the triggering comment, by that comment's id. */
  reactedAt: Map<number, number>;
  /** The pull request's creation, by issue number (read from the branch name). */
  pullRequestAt: Map<number, number>;
  /** The check run's completion, by check run id. */
  checkRunCompletedAt: Map<number, number>;
  /** The latest edit of the progress comment, by issue number. */
  commentEditedAt: Map<number, number>;
  /** Requests no interceptor matched: the app saw an error it may only have logged. */
  unmatched: string[];
  /** The commit `main` points at, for the next job's announcement. */
  baseSha: string;
}

/** The progress comment of issue `n` gets id `PROGRESS_COMMENT_BASE + n`. */
const PROGRESS_COMMENT_BASE = 5_000_000;

/**
 * GitHub, for any number of jobs on `repo`, one after another: every interceptor persists
 * and each reply is told apart by the number in its URL or body, so runs need no fresh
 * interceptors. Times are `performance.now()` when nock saw the request.
 */
export function nockGitHubForJobs(repo: RepoFixture): GitHubTimeline {
  const timeline: GitHubTimeline = { reactedAt: new Map(), pullRequestAt: new Map(), checkRunCompletedAt: new Map(), commentEditedAt: new Map(), unmatched: [], baseSha: "" };
  const path = `/repos/${repo.owner}/${repo.name}`;
  let nextCheckRunId = 6_000_000;
  nock.emitter.on("no match", (request: { method?: string; path?: string; url?: string }) => {
    const url = request.url ?? request.path ?? "";
    // Loopback traffic (the webhook, opencode ↔ model) is allowed through, not unmatched.
    if (!/\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) timeline.unmatched.push(`${request.method ?? "?"} ${url}`);
  });
  nockInstallationToken().persist();
  nockRole(repo, "octocat", "write").persist();
  // The web process's redelivery schedule fires every five minutes of the clock, inside a
  // long bench as anywhere: no delivery failed here.
  nock(GITHUB_API).persist().get("/app/hook/deliveries").query(true).reply(200, []);
  nock(GITHUB_API)
    .persist()
    .post(`/app/installations/${INSTALLATION_ID}/access_tokens`, (body: Record<string, unknown>) => Boolean(body?.repository_ids))
    .reply(201, () => ({ token: REPO_TOKEN, expires_at: new Date(Date.now() + 3_600_000).toISOString() }))
    .post(new RegExp(`^${path}/issues/comments/\\d+/reactions$`))
    .reply(201, (request: Request) => {
      timeline.reactedAt.set(numberIn(request.url, /comments\/(\d+)\/reactions/), performance.now());
      return { id: 1, content: "eyes" };
    })
    .post(new RegExp(`^${path}/issues/\\d+/comments$`))
    .reply(201, (request: Request) => ({ id: PROGRESS_COMMENT_BASE + numberIn(request.url, /issues\/(\d+)\/comments/) }))
    .patch(new RegExp(`^${path}/issues/comments/\\d+$`))
    .reply(200, (request: Request) => {
      const id = numberIn(request.url, /comments\/(\d+)$/);
      timeline.commentEditedAt.set(id - PROGRESS_COMMENT_BASE, performance.now());
      return { id };
    })
    // The worker reads the issue and its comments for the agent (none here but the task).
    .get(new RegExp(`^${path}/issues/\\d+$`))
    .reply(200, (request: Request) => issueJson(repo, { number: numberIn(request.url, /issues\/(\d+)$/) }))
    .get(new RegExp(`^${path}/issues/\\d+/comments(\\?|$)`))
    .reply(200, [])
    // The worker asks whether the agent branch exists; each run's branch is new.
    .get(new RegExp(`^${path}/git/ref/heads%2Fagent%2F`))
    .reply(404, { message: "Not Found" })
    .get(`${path}/git/ref/heads%2F${repo.defaultBranch}`)
    .reply(200, () => ({ ref: `refs/heads/${repo.defaultBranch}`, object: { sha: timeline.baseSha, type: "commit" } }))
    .post(`${path}/check-runs`)
    .reply(201, () => ({ id: ++nextCheckRunId }))
    .patch(new RegExp(`^${path}/check-runs/\\d+$`))
    .reply(
      200,
      recordJson<{ status?: string }>((body, url) => {
        const id = numberIn(url, /check-runs\/(\d+)$/);
        if (body.status === "completed") timeline.checkRunCompletedAt.set(id, performance.now());
        return { id };
      }),
    )
    .get(`${path}/pulls`)
    .query(true)
    .reply(200, [])
    .post(`${path}/pulls`)
    .reply(
      201,
      recordJson<{ head: string }>((body) => {
        const issueNumber = numberIn(body.head, /^agent\/(\d+)/);
        timeline.pullRequestAt.set(issueNumber, performance.now());
        return { number: 10_000 + issueNumber, html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${10_000 + issueNumber}` };
      }),
    );
  return timeline;
}

function numberIn(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  if (!match) throw new Error(`no number matching ${pattern} in ${text}`);
  return Number(match[1]);
}
