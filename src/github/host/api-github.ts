import type { Probot } from "probot";
import type pg from "pg";
import type { Logger } from "pino";
import type { ApiGitHub } from "../../api/api-github.ts";
import { statusOf } from "../http-status.ts";
import { showRun } from "../show/show-run.ts";

/** The REST API's way to GitHub: the app's installation on a repository, an issue, and showing runs in the background. */
export function createApiGitHub(probot: Probot, deps: { pool: pg.Pool; background: Set<Promise<unknown>>; log: Logger }): ApiGitHub {
  const { log } = deps;
  const inBackground = (work: Promise<unknown>, what: string) => {
    const tracked = work.catch((error: unknown) => log.warn({ err: error }, what)).finally(() => deps.background.delete(tracked));
    deps.background.add(tracked);
  };
  return {
    async repositoryOf(owner, name) {
      const app = await probot.auth();
      const installation = await app.rest.apps.getRepoInstallation({ owner, repo: name }).catch(nullWhenGone);
      if (!installation) return null;
      const octokit = await probot.auth(installation.data.id);
      const { data } = await octokit.rest.repos.get({ owner, repo: name });
      return { installationId: installation.data.id, repo: { id: data.id, owner: data.owner.login, name: data.name, cloneUrl: data.clone_url, defaultBranch: data.default_branch } };
    },
    async issueOf(installationId, owner, name, number) {
      const octokit = await probot.auth(installationId);
      const issue = await octokit.rest.issues.get({ owner, repo: name, issue_number: number }).catch(nullWhenGone);
      return issue ? { title: issue.data.title, isPullRequest: issue.data.pull_request !== undefined } : null;
    },
    async installedRepositories() {
      const app = await probot.auth();
      const installations = await app.paginate(app.rest.apps.listInstallations, { per_page: 100 });
      const lists = await Promise.all(
        installations.map(async (installation) => {
          const octokit = await probot.auth(installation.id);
          return octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
        }),
      );
      return lists.flat().map((repository) => ({ id: repository.id, fullName: repository.full_name, defaultBranch: repository.default_branch }));
    },
    async hasBranch(installationId, owner, name, branch) {
      const octokit = await probot.auth(installationId);
      return (await octokit.rest.repos.getBranch({ owner, repo: name, branch }).catch(nullWhenGone)) !== null;
    },
    showRun(run) {
      inBackground(
        probot.auth(run.installationId).then((octokit) => showRun(deps.pool, octokit, run.id)),
        "showing the pipeline run on GitHub failed",
      );
    },
  };
}

/** 404 (or 410, a deleted issue) means "there is none"; anything else is a failure. */
function nullWhenGone(error: unknown): null {
  const status = statusOf(error);
  if (status === 404 || status === 410) return null;
  throw error;
}
