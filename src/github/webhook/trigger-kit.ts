import type { ProbotOctokit } from "probot";
import type { PgBoss } from "pg-boss";
import type pg from "pg";
import type { Logger } from "pino";
import { claimDelivery, createJob } from "../../jobs/create-job.ts";
import type { JobRequest } from "../../jobs/job-request.ts";
import type { Db } from "../../store/database.ts";
import { refusalReplies } from "../../store/refusal-replies.sql.ts";
import { withTransaction } from "../../store/transaction.ts";
import { ensureAnnounced } from "../show/announce-job.ts";
import { createGitHubProgressWriter } from "../show/progress-writer.ts";
import type { Job } from "../../store/jobs.sql.ts";
import { decideAuthorization, type RoleLookup } from "../authorize-sender.ts";
import { triggerKeyOf, type TriggerPayload } from "./trigger-key.ts";

export interface TriggerDeps {
  pool: pg.Pool;
  db: Db;
  boss: PgBoss;
  lookUpRole: RoleLookup;
  /** Work started after the reply to GitHub (announcing a job); awaited at shutdown. */
  background: Set<Promise<unknown>>;
  /** This GitHub App's id: its own check suites are not CI for the agent to fix. */
  appId?: number;
  /** Pull requests from forks: refused, or worked on read-only with the patch proposed in a comment. */
  forkPullRequests?: "refuse" | "propose";
}

export type Delivery = NonNullable<JobRequest["delivery"]> & { triggerKey: string | null };
export type RepoRef = JobRequest["repo"];

/** What every trigger needs of Probot's context, whatever the event. */
export interface TriggerContext {
  id: string;
  name: string;
  octokit: ProbotOctokit;
  log: Logger;
  payload: TriggerPayload & { installation?: { id: number }; repository: RepositoryPayload };
}

interface RepositoryPayload {
  id: number;
  name: string;
  owner: { login: string };
  clone_url: string;
  default_branch: string;
}

/** The handling of one delivery: its id, its logger, its repository, and the replies it may send. */
export interface Trigger {
  context: TriggerContext;
  deps: TriggerDeps;
  delivery: Delivery;
  log: Logger;
  repo: RepoRef;
}

export function triggerOf(context: TriggerContext, deps: TriggerDeps): Trigger {
  const delivery: Delivery = { id: context.id, event: context.name, action: context.payload.action ?? null, triggerKey: triggerKeyOf(context.name, context.payload) };
  return { context, deps, delivery, log: context.log.child({ deliveryId: delivery.id }), repo: repoOf(context.payload.repository) };
}

/**
 * Write access decides; a human without it is told why once per thread (however many
 * `/agent` comments they write there), a bot nothing.
 */
export async function senderMayAct(trigger: Trigger, sender: { login: string; id: number; type: string }, issueNumber: number): Promise<boolean> {
  const { context, deps, repo } = trigger;
  const roleName = await deps.lookUpRole(context.octokit, repo.owner, repo.name, sender.login);
  const decision = decideAuthorization(sender, roleName);
  if (decision.allowed) return true;
  if (decision.reason === "bot") return false;
  const told = await withTransaction(deps.pool, async (tx) => (await claimDelivery(tx, trigger.delivery, "unauthorized")) && (await recordRefusalReply(tx, { repoId: repo.id, issueNumber, userId: sender.id })));
  if (!told) {
    trigger.log.info({ sender: sender.login, issueNumber }, "refused a sender without write access, who was told before; not replying again");
    return false;
  }
  await postReply(
    trigger,
    issueNumber,
    `Sorry @${sender.login}, only people with write access to this repository can start Running Agent. A maintainer can comment \`/agent <task>\` instead.`,
  );
  return false;
}

/** Reply on the thread, once per delivery and trigger, so neither a redelivery nor a replay replies twice. */
export async function replyOnce(trigger: Trigger, outcome: string, issueNumber: number, body: string): Promise<void> {
  const claimed = await withTransaction(trigger.deps.pool, (tx) => claimDelivery(tx, trigger.delivery, outcome));
  if (!claimed) {
    trigger.log.info({ outcome }, ALREADY_PROCESSED);
    return;
  }
  await postReply(trigger, issueNumber, body);
}

/** Logged when a delivery is not acted on because it, or its trigger, was handled before. */
export const ALREADY_PROCESSED = "delivery already processed (a redelivery, or its comment, label event or review replayed under a new delivery id); ignored";

async function postReply(trigger: Trigger, issueNumber: number, body: string): Promise<void> {
  await trigger.context.octokit.rest.issues.createComment({ owner: trigger.repo.owner, repo: trigger.repo.name, issue_number: issueNumber, body });
}

/** False when this person was already told on this thread. */
async function recordRefusalReply(tx: Db, reply: { repoId: number; issueNumber: number; userId: number }): Promise<boolean> {
  const rows = await tx.insert(refusalReplies).values(reply).onConflictDoNothing().returning({ userId: refusalReplies.userId });
  return rows.length > 0;
}

/** Record the job (with its delivery and queue message), then announce it after the answer to GitHub. */
export async function startJob(trigger: Trigger, request: Omit<JobRequest, "delivery" | "installationId" | "repo">): Promise<void> {
  const { deps, log } = trigger;
  const result = await createJob(deps.pool, deps.boss, { ...request, delivery: trigger.delivery, installationId: installationIdOf(trigger.context), repo: trigger.repo });
  if (!result.created && result.reason === "message") {
    const { job } = result;
    log.info({ jobId: job.id, messageId: result.message.id }, "message handed to the thread's running job");
    inBackground(deps, acknowledgeMessage(trigger, job, result.message.commentId), (error) =>
      // The worker shows the message on the job's progress as its agent reads it.
      log.warn({ err: error, jobId: job.id }, "acknowledging the message failed"),
    );
    return;
  }
  if (!result.created) {
    log.info(ALREADY_PROCESSED);
    return;
  }
  log.info({ jobId: result.job.id }, "job queued");
  inBackground(deps, ensureAnnounced(deps.pool, trigger.context.octokit, result.job.id), (error) =>
    // The worker announces whatever is still missing before it starts, so this is not fatal.
    log.warn({ err: error, jobId: result.job.id }, "announcing the job failed; the worker will retry"),
  );
}

/** 👀 on the comment, and its line on the job's progress, within a second. */
async function acknowledgeMessage(trigger: Trigger, job: Job, commentId: number | null): Promise<void> {
  const { octokit } = trigger.context;
  if (commentId !== null) await octokit.rest.reactions.createForIssueComment({ owner: trigger.repo.owner, repo: trigger.repo.name, comment_id: commentId, content: "eyes" });
  const progress = createGitHubProgressWriter(octokit, trigger.log);
  progress.update(job, { force: true });
  await progress.flush();
}

export function installationIdOf(context: TriggerContext): number {
  const id = context.payload.installation?.id;
  if (id === undefined) throw new Error("webhook payload has no installation: is this delivery for a GitHub App?");
  return id;
}

function repoOf(repository: RepositoryPayload): RepoRef {
  return {
    id: repository.id,
    owner: repository.owner.login,
    name: repository.name,
    cloneUrl: repository.clone_url,
    defaultBranch: repository.default_branch,
  };
}

/** Run `promise` after the webhook's answer; shutdown waits for it. */
export function inBackground(deps: TriggerDeps, promise: Promise<unknown>, onError: (error: unknown) => void): void {
  const tracked = promise.catch(onError).finally(() => deps.background.delete(tracked));
  deps.background.add(tracked);
}
