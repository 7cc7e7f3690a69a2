import type { Context, Probot } from "probot";
import { parseRepoConfig } from "../../config/repo-config.ts";
import { ciSettingsOf } from "../../config/repo-config.schema.ts";
import { findJob } from "../../store/job-queries.ts";
import { countCiRounds, findAgentPullRequestAtHead, recordCiFailure } from "../../store/pull-request-queries.ts";
import { readRepoConfig } from "../repo-config-file.ts";
import { replyOnce, startJob, triggerOf, type Trigger, type TriggerContext, type TriggerDeps } from "./trigger-kit.ts";

/** Conclusions that mean the commit's checks found something to fix; `cancelled`, `neutral` and `action_required` do not. */
const FAILED = new Set(["failure", "timed_out"]);

/**
 * The repository's CI is part of the job: when checks other than ours fail on the commit
 * the agent last pushed to its open pull request, the product starts a follow-up on it by
 * itself, at most `ci.max_rounds` per pull request. One round per commit, whichever event
 * says so first (the trigger key is the commit). Nothing starts when someone else pushed
 * since (the head is not the agent's commit), the pull request is closed, `/agent cancel`
 * stopped the rounds, or `ci: { autofix: false }`.
 */
export function registerCiRounds(app: Probot, deps: TriggerDeps): void {
  app.on("check_suite.completed", (context) => onCheckSuite(context, deps));
  app.on("workflow_run.completed", (context) => onWorkflowRun(context, deps));
}

async function onCheckSuite(context: Context<"check_suite.completed">, deps: TriggerDeps): Promise<void> {
  const suite = context.payload.check_suite;
  if (!FAILED.has(suite.conclusion ?? "")) return;
  // Our own check run failing (a job that failed) is already said on the thread.
  if (deps.appId !== undefined && suite.app?.id === deps.appId) return;
  await considerRound(triggerOf(context as unknown as TriggerContext, deps), { headSha: suite.head_sha, source: `a check suite of ${suite.app?.name ?? "CI"}` });
}

async function onWorkflowRun(context: Context<"workflow_run.completed">, deps: TriggerDeps): Promise<void> {
  const { workflow_run: run, repository } = context.payload;
  if (!FAILED.has(run.conclusion ?? "")) return;
  // A fork's workflow: its commit is never one the agent pushed here.
  if (run.head_repository?.id !== repository.id) return;
  await considerRound(triggerOf(context as unknown as TriggerContext, deps), { headSha: run.head_sha, source: `the workflow ${run.name ?? "run"}` });
}

async function considerRound(trigger: Trigger, failure: { headSha: string; source: string }): Promise<void> {
  const { deps, repo, log } = trigger;
  const pullRequest = await findAgentPullRequestAtHead(deps.db, { repoId: repo.id, headSha: failure.headSha });
  if (!pullRequest) return log.debug({ headSha: failure.headSha }, "CI failed on a commit that is not the head the agent pushed to an open pull request of its own; not the agent's to fix");
  await recordCiFailure(deps.db, { repoId: repo.id, number: pullRequest.number, headSha: failure.headSha });
  const short = failure.headSha.slice(0, 7);
  const text = await readRepoConfig(trigger.context.octokit, repo.owner, repo.name, repo.defaultBranch);
  const parsed = text === null ? null : parseRepoConfig(text);
  if (parsed && !parsed.ok) {
    const problems = parsed.errors.map((error) => `- ${error}`).join("\n");
    return replyOnce(trigger, "ci_config_invalid", pullRequest.number, `CI failed on ${short}, but \`.github/agent.yml\` cannot be read, so Running Agent will not fix it by itself:\n\n${problems}`);
  }
  const settings = ciSettingsOf(parsed?.config ?? {});
  if (!settings.autofix) return log.info({ pullRequest: pullRequest.url }, "CI failed on the agent's commit; ci.autofix is off");
  const opener = pullRequest.jobId === null ? null : await findJob(deps.db, pullRequest.jobId);
  if (!opener) return log.info({ pullRequest: pullRequest.url }, "CI failed on a pull request whose job is gone; not fixed by itself");
  const rounds = await countCiRounds(deps.db, { repoId: repo.id, number: pullRequest.number });
  if (rounds >= settings.maxRounds) {
    return replyOnce(
      trigger,
      "ci_rounds_exhausted",
      pullRequest.number,
      `CI still fails on ${short} (${failure.source}) after ${rounds} automatic round${rounds === 1 ? "" : "s"} (\`ci.max_rounds\`: ${settings.maxRounds}). Running Agent stops fixing it by itself: look at the failing checks, and comment \`/agent <feedback>\` to ask for more.`,
    );
  }
  await startJob(trigger, {
    issue: { number: pullRequest.number, title: opener.issueTitle, isPullRequest: true },
    trigger: "ci",
    task: `CI failed on ${short} (${failure.source}): make the failing checks pass.`,
    requester: { login: opener.requesterLogin, id: opener.requesterId },
    triggerCommentId: null,
    followUp: {
      pullRequest: { number: pullRequest.number, title: opener.issueTitle, headRef: opener.branch, url: pullRequest.url, body: null },
      triggeredAt: new Date().toISOString(),
      reviewTargets: [],
      ci: { headSha: failure.headSha, round: rounds + 1, maxRounds: settings.maxRounds },
    },
  });
}
