import type { Probot, ProbotOctokit } from "probot";
import { githubJobError } from "./http-status.ts";

/**
 * A token for git alone: scoped to one repository with `contents: write` and nothing
 * else, so a leak (it never should) could not touch issues, other repositories or settings.
 */
export function createRepositoryTokenIssuer(probot: Probot) {
  return async function repositoryToken(installationId: number, repoId: number): Promise<string> {
    const appOctokit: ProbotOctokit = await probot.auth();
    try {
      const { data } = await appOctokit.rest.apps.createInstallationAccessToken({
        installation_id: installationId,
        repository_ids: [repoId],
        permissions: { contents: "write" },
      });
      return data.token;
    } catch (error) {
      throw githubJobError(error, "issuing a token for this repository", "is the app still installed with contents: write?");
    }
  };
}
