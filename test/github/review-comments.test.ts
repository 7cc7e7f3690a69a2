import { createRequire } from "node:module";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listReviewTargets, replyInReviewThreads, reviewCommentTarget, type ReviewCommentFields } from "../../src/github/review-comments.ts";
import { GITHUB_API, recordJson } from "../support/github-api.ts";
import { testRepo } from "../support/github-fixtures.ts";
import { TestOctokit } from "../support/probot.ts";

const require = createRequire(import.meta.url);
const catalog = require("@octokit/webhooks-examples/api.github.com/index.json") as Array<{ name: string; examples: Array<Record<string, unknown>> }>;

/** A real `pull_request_review_comment.created` comment, one that carries the line fields. */
function webhookComment(overrides: Partial<ReviewCommentFields> = {}): ReviewCommentFields {
  const example = catalog.find((entry) => entry.name === "pull_request_review_comment")!.examples.find((candidate) => candidate.action === "created" && "line" in (candidate.comment as object))!;
  return { ...structuredClone(example.comment as ReviewCommentFields), ...overrides };
}

const repo = testRepo();
const path = `/repos/${repo.owner}/${repo.name}`;

describe("reviewCommentTarget", () => {
  it("reads file, line, side, hunk and body from a webhook comment", () => {
    expect(reviewCommentTarget(webhookComment())).toEqual({
      commentId: 284312630,
      replyToId: 284312630,
      path: "README.md",
      line: 265,
      startLine: null,
      side: "RIGHT",
      outdated: false,
      diffHunk: "@@ -1 +1 @@\n-# Hello-World",
      body: "Maybe you should use more emoji on this line.",
    });
  });

  it("gives a multi-line comment its range", () => {
    const target = reviewCommentTarget(webhookComment({ start_line: 260, line: 265 }));
    expect([target.startLine, target.line]).toEqual([260, 265]);
    expect(reviewCommentTarget(webhookComment({ start_line: 265, line: 265 })).startLine).toBeNull();
  });

  it("falls back to the original lines of an outdated comment, and says so", () => {
    const target = reviewCommentTarget(webhookComment({ line: null, original_line: 12, start_line: null, original_start_line: 10 }));
    expect(target).toMatchObject({ line: 12, startLine: 10, outdated: true });
  });

  it("points a file comment at the whole file", () => {
    expect(reviewCommentTarget(webhookComment({ subject_type: "file", line: null, original_line: null }))).toMatchObject({ line: null, startLine: null, outdated: false });
  });

  it("replies to a reply's thread, since GitHub refuses replies to replies", () => {
    expect(reviewCommentTarget(webhookComment({ id: 7, in_reply_to_id: 3 }))).toMatchObject({ commentId: 7, replyToId: 3 });
  });
});

describe("review comments on GitHub", () => {
  const octokit = new TestOctokit({ auth: "token test" });
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  it("lists a review's comments as targets, across pages", async () => {
    const comment = (id: number, line: number | null) => ({ ...webhookComment({ id, line, original_line: 40 + id }), pull_request_review_id: 80 });
    const pageTwo = `${GITHUB_API}${path}/pulls/5/reviews/80/comments?per_page=100&page=2`;
    nock(GITHUB_API)
      .get(`${path}/pulls/5/reviews/80/comments`)
      .query({ per_page: 100 })
      .reply(200, [comment(1, 10), comment(2, null)], { link: `<${pageTwo}>; rel="next", <${pageTwo}>; rel="last"` })
      .get(`${path}/pulls/5/reviews/80/comments`)
      .query({ per_page: 100, page: 2 })
      .reply(200, [comment(3, 30)]);

    const targets = await listReviewTargets(octokit, { owner: repo.owner, repo: repo.name, pullNumber: 5, reviewId: 80 });
    expect(targets.map((target) => [target.commentId, target.line, target.outdated])).toEqual([
      [1, 10, false],
      [2, 42, true],
      [3, 30, false],
    ]);
  });

  it("replies in every thread it can, though one thread is gone", async () => {
    const bodies: Record<string, unknown>[] = [];
    const answer = (id: number) =>
      recordJson((body) => {
        bodies.push(body);
        return { id };
      });
    nock(GITHUB_API)
      .post(`${path}/pulls/5/comments/11/replies`)
      .reply(201, answer(111))
      .post(`${path}/pulls/5/comments/12/replies`)
      .reply(404, { message: "Not Found" })
      .post(`${path}/pulls/5/comments/13/replies`)
      .reply(201, answer(113));

    const results = await replyInReviewThreads(octokit, {
      owner: repo.owner,
      repo: repo.name,
      pullNumber: 5,
      replies: [
        { commentId: 11, body: "Done in abc." },
        { commentId: 12, body: "Not done." },
        { commentId: 13, body: "Done too." },
      ],
    });
    expect(results.replied).toEqual([
      { commentId: 11, replyId: 111 },
      { commentId: 13, replyId: 113 },
    ]);
    expect(results.failed).toEqual([{ commentId: 12, status: 404, message: expect.stringMatching(/not found/i) }]);
    expect(bodies).toEqual([{ body: "Done in abc." }, { body: "Done too." }]);
  });
});
