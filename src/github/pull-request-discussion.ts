import type { ProbotOctokit } from "probot";
import type { DiscussionEntry } from "../jobs/follow-up-task.ts";
import { isBot, writeAccessOf, type RoleLookup } from "./authorize-sender.ts";

export interface DiscussionWindow {
  owner: string;
  repo: string;
  /** The pull request's number (issue comments and review comments share it). */
  issueNumber: number;
  /** Only what was said after this (exclusive), e.g. the previous job's trigger; null for all. */
  since: Date | null;
  /** The trigger's time: later text, and text edited later, was not what the requester saw. */
  triggeredAt: Date;
  /** Issue and review comment ids to leave out: the trigger itself, the review's own targets. */
  excludeCommentIds: number[];
  /**
   * Reviews to leave out, with all their comments: when the trigger is a review, its body is
   * the feedback and its comments are the targets, so they must not appear twice.
   */
  excludeReviewIds?: number[];
}

export const MAX_DISCUSSION_ENTRIES = 50;

interface Candidate extends DiscussionEntry {
  /** A user who posted it; bots, deleted accounts (no user) never get here. */
  user: { login: string; type: string };
}

/**
 * What was said on the pull request in the window, oldest first, from people with write
 * access only (DESIGN §6): everything else is someone trying to steer the agent. A review's
 * body can be edited without GitHub saying when (reviews have no `updated_at`), so for
 * reviews the edit rule cannot apply; their authors still need write access.
 */
export async function gatherDiscussion(octokit: ProbotOctokit, window: DiscussionWindow, lookUpRole: RoleLookup): Promise<DiscussionEntry[]> {
  const [comments, reviews, reviewComments] = await Promise.all([
    listIssueComments(octokit, window),
    listReviews(octokit, window),
    listReviewComments(octokit, window),
  ]);
  const candidates = [...comments, ...reviews, ...reviewComments].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());

  // Newest first, and only as many role look-ups as it takes to fill the cap.
  const mayWrite = writeAccessOf(octokit, window.owner, window.repo, lookUpRole);
  const kept: DiscussionEntry[] = [];
  for (const candidate of candidates.reverse()) {
    if (kept.length >= MAX_DISCUSSION_ENTRIES) break;
    if (await mayWrite(candidate.user)) kept.push(entryOf(candidate));
  }
  return kept.reverse();
}

async function listIssueComments(octokit: ProbotOctokit, window: DiscussionWindow): Promise<Candidate[]> {
  const items = await octokit.paginate(octokit.rest.issues.listComments, { owner: window.owner, repo: window.repo, issue_number: window.issueNumber, per_page: 100, ...sinceParam(window) });
  return items.flatMap((item) =>
    candidateOf(window, { id: item.id, user: item.user, body: item.body ?? "", createdAt: item.created_at, updatedAt: item.updated_at, kind: "comment" }),
  );
}

async function listReviews(octokit: ProbotOctokit, window: DiscussionWindow): Promise<Candidate[]> {
  const items = await octokit.paginate(octokit.rest.pulls.listReviews, { owner: window.owner, repo: window.repo, pull_number: window.issueNumber, per_page: 100 });
  return items.flatMap((item) => {
    // A pending review has no submitted_at: nobody but its author has seen it.
    if (!item.submitted_at || window.excludeReviewIds?.includes(item.id)) return [];
    return candidateOf({ ...window, excludeCommentIds: [] }, { id: item.id, user: item.user, body: item.body, createdAt: item.submitted_at, updatedAt: item.submitted_at, kind: "review" });
  });
}

async function listReviewComments(octokit: ProbotOctokit, window: DiscussionWindow): Promise<Candidate[]> {
  const items = await octokit.paginate(octokit.rest.pulls.listReviewComments, { owner: window.owner, repo: window.repo, pull_number: window.issueNumber, per_page: 100, ...sinceParam(window) });
  return items.flatMap((item) => {
    if (item.pull_request_review_id !== null && window.excludeReviewIds?.includes(item.pull_request_review_id)) return [];
    const line = item.line ?? item.original_line ?? undefined;
    return candidateOf(window, { id: item.id, user: item.user, body: item.body, createdAt: item.created_at, updatedAt: item.updated_at, kind: "review_comment", path: item.path, line });
  });
}

/** GitHub's `since` filters on `updated_at`, which is never before `created_at`: a safe pre-filter. */
function sinceParam(window: DiscussionWindow): { since?: string } {
  return window.since ? { since: window.since.toISOString() } : {};
}

interface RawItem {
  id: number;
  user: { login: string; type: string } | null;
  body: string;
  createdAt: string;
  updatedAt: string;
  kind: DiscussionEntry["kind"];
  path?: string;
  line?: number;
}

/** The item as a candidate, or nothing when the window, the author or the exclusions rule it out. */
function candidateOf(window: DiscussionWindow, item: RawItem): Candidate[] {
  const createdAt = new Date(item.createdAt);
  const updatedAt = new Date(item.updatedAt);
  if (window.since && createdAt <= window.since) return [];
  if (createdAt > window.triggeredAt || updatedAt > window.triggeredAt) return [];
  if (!item.user || isBot(item.user) || window.excludeCommentIds.includes(item.id)) return [];
  if (item.body.trim() === "") return [];
  const candidate: Candidate = { author: item.user.login, createdAt, body: item.body, kind: item.kind, user: { login: item.user.login, type: item.user.type } };
  if (item.path !== undefined) candidate.path = item.path;
  if (item.line !== undefined) candidate.line = item.line;
  return [candidate];
}

function entryOf(candidate: Candidate): DiscussionEntry {
  const { user: _user, ...entry } = candidate;
  return entry;
}
