import type { ApiGitHub } from "./api-github.ts";
import { sendError, sendJson, type Route } from "./http.ts";

/**
 * `GET /api/repositories`: where the caller may look and start work. A signed-in person gets
 * the repositories the app is installed on that they can read, with whether they may write;
 * the API token gets every repository the app is installed on.
 */
export function registerRepositoriesRoute(route: Route, deps: { github: ApiGitHub | null }): void {
  route(
    "GET",
    "/api/repositories",
    async (_req, res, _params, _url, caller) => {
      if (caller.kind === "person") {
        const repositories = [...(await caller.repositories()).values()].sort((a, b) => a.fullName.localeCompare(b.fullName));
        return sendJson(res, 200, { repositories: repositories.map((repository) => ({ repository: repository.fullName, default_branch: repository.defaultBranch, can_write: repository.canWrite })) });
      }
      if (!deps.github) return sendError(res, 503, "this process cannot reach GitHub (no GitHub App credentials)");
      const repositories = (await deps.github.installedRepositories()).sort((a, b) => a.fullName.localeCompare(b.fullName));
      sendJson(res, 200, { repositories: repositories.map((repository) => ({ repository: repository.fullName, default_branch: repository.defaultBranch, can_write: true })) });
    },
    { people: true },
  );
}
