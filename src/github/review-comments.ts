import type { ProbotOctokit } from "probot";
import type { ThreadReply } from "../jobs/follow-up-task.ts";
import type { ReviewTarget } from "../store/jobs.sql.ts";
import { statusOf } from "./http-status.ts";


/**
 * The fields we read from a review comment, as both the `pull_request_review_comment`
 * webhook and the REST API (`pulls.listCommentsForReview`) give them.
 */
export interface ReviewCommentFields {
  id: number;
  in_reply_to_id?: number | null;
  path: string;
  body: string;
  diff_hunk: string;
  line?: number | null;
  original_line?: number | null;
  start_line?: number | null;
  original_start_line?: number | null;
  side?: "LEFT" | "RIGHT" | null;
  subject_type?: "line" | "file" | null;
}

/**
 * Where a review comment points. GitHub sets `line` to null once the diff under a comment
 * has changed (the comment is outdated); `original_line` then says where it was.
 */
export function reviewCommentTarget(comment: ReviewCommentFields): ReviewTarget {
  const onFile = comment.subject_type === "file";
  // null means outdated; a payload without the field at all (older events) is not.
  const outdated = !onFile && comment.line === null;
  const line = onFile ? null : (comment.line ?? comment.original_line ?? null);
  const start = onFile ? null : comment.line != null ? (comment.start_line ?? null) : (comment.original_start_line ?? null);
  return {
    commentId: comment.id,
    replyToId: comment.in_reply_to_id ?? comment.id,
    path: comment.path,
    line,
    startLine: start !== null && start !== line ? start : null,
    side: comment.side ?? "RIGHT",
    outdated,
    diffHunk: comment.diff_hunk,
    body: comment.body,
  };
}

/** All comments of one review, as targets, in the order GitHub lists them. */
export async function listReviewTargets(octokit: ProbotOctokit, review: { owner: string; repo: string; pullNumber: number; reviewId: number }): Promise<ReviewTarget[]> {
  const comments = await octokit.paginate(octokit.rest.pulls.listCommentsForReview, {
    owner: review.owner,
    repo: review.repo,
    pull_number: review.pullNumber,
    review_id: review.reviewId,
    per_page: 100,
  });
  return comments.map(reviewCommentTarget);
}


export interface ThreadReplyResults {
  replied: Array<{ commentId: number; replyId: number }>;
  failed: Array<{ commentId: number; status: number | undefined; message: string }>;
}

/**
 * Reply in each review thread. Each reply stands alone: a thread can be gone (the comment
 * was deleted: 404) or locked, and that must not cost the other threads their answer, so
 * failures are collected for the caller to log rather than thrown.
 */
export async function replyInReviewThreads(
  octokit: ProbotOctokit,
  thread: { owner: string; repo: string; pullNumber: number; replies: readonly ThreadReply[] },
): Promise<ThreadReplyResults> {
  const results: ThreadReplyResults = { replied: [], failed: [] };
  // One at a time: Probot paces writes anyway, and GitHub's secondary rate limit punishes bursts.
  for (const reply of thread.replies) {
    try {
      const { data } = await octokit.rest.pulls.createReplyForReviewComment({
        owner: thread.owner,
        repo: thread.repo,
        pull_number: thread.pullNumber,
        comment_id: reply.commentId,
        body: reply.body,
      });
      results.replied.push({ commentId: reply.commentId, replyId: data.id });
    } catch (error) {
      results.failed.push({ commentId: reply.commentId, status: statusOf(error), message: error instanceof Error ? error.message : String(error) });
    }
  }
  return results;
}
