import type { Probot } from "probot";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { ApiGitHub } from "../api/api-github.ts";
import { settleStepJob } from "../pipelines/settle-step.ts";
import type { Database } from "../store/database.ts";
import { showJobState } from "./show-job-state.ts";
import { showRun } from "./show-run.ts";

/** The REST API's way to GitHub: the app's installation on a repository, an issue, and showing jobs and runs in the background. */
export function createApiGitHub(probot: Probot, deps: { database: Database; boss: PgBoss; background: Set<Promise<unknown>>; log: Logger }): ApiGitHub {
  const { database, log } = deps;
  const inBackground = (work: Promise<unknown>, what: string) => {
    const tracked = work.catch((error: unknown) => log.warn({ err: error }, what)).finally(() => deps.background.delete(tracked));
    deps.background.add(tracked);
  };
  const pipelineDeps = { pool: database.pool, db: database.db, boss: deps.boss, octokitFor: (installationId: number) => probot.auth(installationId), log };
  return {
    async repositoryOf(owner, name) {
      const app = await probot.auth();
      const installation = await app.rest.apps.getRepoInstallation({ owner, repo: name }).catch((error: unknown) => {
        if ((error as { status?: number }).status === 404) return null;
        throw error;
      });
      if (!installation) return null;
      const octokit = await probot.auth(installation.data.id);
      const { data } = await octokit.rest.repos.get({ owner, repo: name });
      return { installationId: installation.data.id, repo: { id: data.id, owner: data.owner.login, name: data.name, cloneUrl: data.clone_url, defaultBranch: data.default_branch } };
    },
    async issueOf(installationId, owner, name, number) {
      const octokit = await probot.auth(installationId);
      const issue = await octokit.rest.issues.get({ owner, repo: name, issue_number: number }).catch((error: unknown) => {
        if ((error as { status?: number }).status === 404 || (error as { status?: number }).status === 410) return null;
        throw error;
      });
      return issue ? { title: issue.data.title, isPullRequest: issue.data.pull_request !== undefined } : null;
    },
    showRun(run) {
      inBackground(
        probot.auth(run.installationId).then((octokit) => showRun(database.pool, octokit, run.id)),
        "showing the pipeline run on GitHub failed",
      );
    },
    showJob(job) {
      inBackground(
        probot.auth(job.installationId).then(async (octokit) => {
          await showJobState(database.pool, octokit, job, log);
          await settleStepJob(pipelineDeps, job);
        }),
        "showing the cancelled step on GitHub failed",
      );
    },
  };
}
