import type { Context, Probot, ProbotOctokit } from "probot";
import type { PgBoss } from "pg-boss";
import type pg from "pg";
import type { Logger } from "pino";
import { claimDelivery, createJob } from "../jobs/create-job.ts";
import type { JobRequest } from "../jobs/job-request.ts";
import { withTransaction } from "../store/transaction.ts";
import { ensureAnnounced } from "./announce-job.ts";
import { decideAuthorization, isBot, type RoleLookup } from "./authorize-sender.ts";
import { parseCommand } from "./command.ts";
import { USAGE } from "./usage.ts";

export interface TriggerDeps {
  pool: pg.Pool;
  boss: PgBoss;
  lookUpRole: RoleLookup;
  /** Work started after the reply to GitHub (announcing a job); awaited at shutdown. */
  background: Set<Promise<unknown>>;
}

export const AGENT_LABEL = "agent";

/**
 * Webhook entry points. Each only verifies, authorizes, writes and enqueues: GitHub waits
 * at most 10 s for the answer, and the agent's work belongs to a worker.
 */
export function registerTriggers(app: Probot, deps: TriggerDeps): void {
  app.on("issue_comment.created", (context) => onIssueComment(context, deps));
  app.on("issues.labeled", (context) => onIssueLabeled(context, deps));
}

async function onIssueComment(context: Context<"issue_comment.created">, deps: TriggerDeps): Promise<void> {
  const { comment, issue, repository, sender } = context.payload;
  const command = parseCommand(comment.body);
  if (command === null || isBot(sender)) return;
  const delivery = deliveryOf(context);
  const log = context.log.child({ deliveryId: delivery.id });
  if (!(await senderMayAct(context, deps, sender, delivery))) return;

  if (command.kind === "help") return replyOnce(context, deps, delivery, "help", USAGE);
  if (command.kind === "invalid") return replyOnce(context, deps, delivery, "invalid_command", `${command.reason}\n\n${USAGE}`);
  if (command.kind !== "task") {
    return replyOnce(context, deps, delivery, "unsupported_command", `\`/agent ${command.kind}\` is not available on this installation yet.\n\n${USAGE}`);
  }
  if (issue.pull_request) {
    return replyOnce(
      context,
      deps,
      delivery,
      "pull_request_unsupported",
      "Running Agent works from issues on this installation: open an issue with the task and comment `/agent <task>` there.",
    );
  }
  await startJob(context, deps, log, {
    delivery,
    installationId: installationIdOf(context),
    repo: repoOf(repository),
    issue: { number: issue.number, title: issue.title, isPullRequest: false },
    trigger: "comment",
    task: command.task,
    requester: { login: sender.login, id: sender.id },
    triggerCommentId: comment.id,
  });
}

async function onIssueLabeled(context: Context<"issues.labeled">, deps: TriggerDeps): Promise<void> {
  const { issue, label, repository, sender } = context.payload;
  if (label?.name.toLowerCase() !== AGENT_LABEL || isBot(sender)) return;
  const delivery = deliveryOf(context);
  const log = context.log.child({ deliveryId: delivery.id });
  if (!(await senderMayAct(context, deps, sender, delivery))) return;
  await startJob(context, deps, log, {
    delivery,
    installationId: installationIdOf(context),
    repo: repoOf(repository),
    issue: { number: issue.number, title: issue.title, isPullRequest: false },
    trigger: "label",
    task: [issue.title, issue.body ?? ""].join("\n\n").trim(),
    requester: { login: sender.login, id: sender.id },
    triggerCommentId: null,
  });
}

type Delivery = NonNullable<JobRequest["delivery"]>;
type AnyContext = Context<"issue_comment.created"> | Context<"issues.labeled">;

async function startJob(context: AnyContext, deps: TriggerDeps, log: Logger, request: JobRequest): Promise<void> {
  const result = await createJob(deps.pool, deps.boss, request);
  if (!result.created) {
    log.info("delivery already processed; ignoring the redelivery");
    return;
  }
  log.info({ jobId: result.job.id }, "job queued");
  track(deps.background, ensureAnnounced(deps.pool, context.octokit as ProbotOctokit, result.job.id), (error) =>
    // The worker announces whatever is still missing before it starts, so this is not fatal.
    log.warn({ err: error, jobId: result.job.id }, "announcing the job failed; the worker will retry"),
  );
}

async function senderMayAct(context: AnyContext, deps: TriggerDeps, sender: { login: string; type: string }, delivery: Delivery): Promise<boolean> {
  const { owner, name: repo } = repoOf(context.payload.repository);
  const roleName = await deps.lookUpRole(context.octokit as ProbotOctokit, owner, repo, sender.login);
  const decision = decideAuthorization(sender, roleName);
  if (decision.allowed) return true;
  if (decision.reason === "no_write_access") {
    await replyOnce(
      context,
      deps,
      delivery,
      "unauthorized",
      `Sorry @${sender.login}, only people with write access to this repository can start Running Agent. A maintainer can comment \`/agent <task>\` instead.`,
    );
  }
  return false;
}

/** Reply on the thread, once per delivery, so a redelivered webhook does not reply twice. */
async function replyOnce(context: AnyContext, deps: TriggerDeps, delivery: Delivery, outcome: string, body: string): Promise<void> {
  const claimed = await withTransaction(deps.pool, (tx) => claimDelivery(tx, delivery, outcome));
  if (!claimed) return;
  const { owner, name: repo } = repoOf(context.payload.repository);
  await context.octokit.rest.issues.createComment({ owner, repo, issue_number: context.payload.issue.number, body });
}

function deliveryOf(context: AnyContext): Delivery {
  const payload = context.payload as { action?: string };
  return { id: context.id, event: context.name, action: payload.action ?? null };
}

function installationIdOf(context: AnyContext): number {
  const id = context.payload.installation?.id;
  if (id === undefined) throw new Error("webhook payload has no installation: is this delivery for a GitHub App?");
  return id;
}

function repoOf(repository: AnyContext["payload"]["repository"]): JobRequest["repo"] {
  return {
    id: repository.id,
    owner: repository.owner.login,
    name: repository.name,
    cloneUrl: repository.clone_url,
    defaultBranch: repository.default_branch,
  };
}

function track(background: Set<Promise<unknown>>, promise: Promise<unknown>, onError: (error: unknown) => void): void {
  const tracked = promise.catch(onError).finally(() => background.delete(tracked));
  background.add(tracked);
}
