import type { Context, Probot } from "probot";
import { recordHumanPush, recordPullRequestClosed, recordPullRequestReopened } from "../../store/pull-request-queries.ts";
import { isBot } from "../authorize-sender.ts";
import type { TriggerDeps } from "./trigger-kit.ts";

/**
 * What happens to the agent's pull requests after it opened them: merged, closed without
 * merging, reopened, pushed to by someone else. One idempotent row update per event (a
 * redelivery changes nothing), for pull requests the agent opened only: others are not in
 * the table and the update touches nothing.
 */
export function registerPullRequestOutcomes(app: Probot, deps: Pick<TriggerDeps, "db">): void {
  app.on("pull_request.closed", (context) => onClosed(context, deps));
  app.on("pull_request.reopened", (context) => onReopened(context, deps));
  app.on("pull_request.synchronize", (context) => onPushed(context, deps));
}

async function onClosed(context: Context<"pull_request.closed">, deps: Pick<TriggerDeps, "db">): Promise<void> {
  const { pull_request: pullRequest, repository, sender } = context.payload;
  const merged = pullRequest.merged === true;
  const row = await recordPullRequestClosed(deps.db, {
    repoId: repository.id,
    number: pullRequest.number,
    merged,
    at: new Date((merged ? pullRequest.merged_at : pullRequest.closed_at) ?? Date.now()),
    by: (merged ? pullRequest.merged_by?.login : undefined) ?? sender.login,
  });
  if (row) context.log.info({ deliveryId: context.id, pullRequest: row.url, state: row.state, by: row.closedBy }, "the agent's pull request was closed");
}

async function onReopened(context: Context<"pull_request.reopened">, deps: Pick<TriggerDeps, "db">): Promise<void> {
  const { pull_request: pullRequest, repository } = context.payload;
  const row = await recordPullRequestReopened(deps.db, { repoId: repository.id, number: pullRequest.number });
  if (row) context.log.info({ deliveryId: context.id, pullRequest: row.url }, "the agent's pull request was reopened");
}

/** The app's own pushes come from its bot; anyone else's is a person taking over part of the work. */
async function onPushed(context: Context<"pull_request.synchronize">, deps: Pick<TriggerDeps, "db">): Promise<void> {
  const { pull_request: pullRequest, repository, sender, after } = context.payload;
  if (isBot(sender)) return;
  const row = await recordHumanPush(deps.db, { repoId: repository.id, number: pullRequest.number, headSha: after });
  if (row) context.log.info({ deliveryId: context.id, pullRequest: row.url, by: sender.login }, "someone else pushed to the agent's pull request");
}
