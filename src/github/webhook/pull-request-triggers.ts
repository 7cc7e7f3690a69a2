import type { ReviewTarget } from "../../store/jobs.sql.ts";
import { decideAuthorization, isBot } from "../authorize-sender.ts";
import { replyOnce, startJob, type Trigger } from "./trigger-kit.ts";

/** The fields of a pull request we need, as webhooks and `pulls.get` both give them. */
export interface PullRequestFields {
  number: number;
  title: string;
  body: string | null;
  state: string;
  html_url: string;
  user: { login: string; type: string } | null;
  head: { ref: string; sha: string; repo: { id: number; clone_url: string; full_name: string } | null };
}

export interface FollowUpRequest {
  pullRequest: PullRequestFields;
  feedback: string;
  requester: { login: string; id: number };
  /** The comment to react to (an issue comment); null for reviews and review comments. */
  triggerCommentId: number | null;
  /** When the trigger was written, from the signed payload. */
  triggeredAt: string;
  reviewTargets: ReviewTarget[];
  reviewId?: number;
  trigger: "comment" | "review";
}

/**
 * Work on an existing pull request: a job on its head branch. Refused, with a reply, when
 * the pull request is closed, or comes from a fork (the app can only push to this
 * repository) unless the operator lets the agent propose a patch for forks instead.
 */
export async function followUpOnPullRequest(trigger: Trigger, request: FollowUpRequest): Promise<void> {
  const pr = request.pullRequest;
  if (pr.state !== "open") {
    return replyOnce(trigger, "pull_request_closed", pr.number, "This pull request is closed, so Running Agent will not push to it. Reopen it, or open an issue with the task and comment `/agent <task>` there.");
  }
  const fork = pr.head.repo !== null && pr.head.repo.id !== trigger.repo.id && trigger.deps.forkPullRequests === "propose" ? pr.head.repo : null;
  if (pr.head.repo?.id !== trigger.repo.id && fork === null) {
    return replyOnce(
      trigger,
      "fork_refused",
      pr.number,
      "This pull request comes from a fork, and Running Agent can only push to branches of this repository. Push the branch here (or open an issue with the task and comment `/agent <task>` there) and ask again.",
    );
  }
  if (fork === null && pr.head.ref === trigger.repo.defaultBranch) {
    return replyOnce(
      trigger,
      "default_branch_refused",
      pr.number,
      `This pull request's branch is \`${pr.head.ref}\`, the default branch, and Running Agent never pushes to the default branch. Open the pull request from another branch and ask again.`,
    );
  }
  await startJob(trigger, {
    issue: { number: pr.number, title: pr.title, isPullRequest: true },
    trigger: request.trigger,
    task: request.feedback,
    requester: request.requester,
    triggerCommentId: request.triggerCommentId,
    followUp: {
      pullRequest: { number: pr.number, title: pr.title, headRef: pr.head.ref, url: pr.html_url, body: await trustedBody(trigger, pr) },
      triggeredAt: request.triggeredAt,
      reviewTargets: request.reviewTargets,
      ...(request.reviewId === undefined ? {} : { reviewId: request.reviewId }),
      ...(fork === null ? {} : { fork: { cloneUrl: fork.clone_url, fullName: fork.full_name, headSha: pr.head.sha } }),
    },
  });
}

/** The description reaches the agent only when its author has write access (DESIGN §6). */
async function trustedBody(trigger: Trigger, pr: PullRequestFields): Promise<string | null> {
  if (!pr.body || !pr.user || isBot(pr.user)) return null;
  const role = await trigger.deps.lookUpRole(trigger.context.octokit, trigger.repo.owner, trigger.repo.name, pr.user.login);
  return decideAuthorization(pr.user, role).allowed ? pr.body : null;
}
