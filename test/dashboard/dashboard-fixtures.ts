import { afterAll, beforeAll } from "vitest";
import type { ApiGitHub } from "../../src/api/api-github.ts";
import type { ApiDeps } from "../../src/api/routes.ts";
import { startApiServer, type ApiServer } from "../support/api-server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

/** The repository the fake GitHub App is installed on: issue #7, branches main and release/1.x. */
export const REPOSITORY = "octo-org/hello-world";

/** GitHub as the web role sees it, installed on one repository. */
export const fakeGitHub: ApiGitHub = {
  repositoryOf: async (owner, name) =>
    `${owner}/${name}` === REPOSITORY ? { installationId: 4242, repo: { id: 1296269, owner, name, cloneUrl: `https://github.com/${REPOSITORY}.git`, defaultBranch: "main" } } : null,
  installedRepositories: async () => [{ id: 1296269, fullName: REPOSITORY, defaultBranch: "main" }],
  issueOf: async (_installationId, _owner, _name, number) => (number === 7 ? { title: "Add a greeting function", isPullRequest: false } : null),
  hasBranch: async (_installationId, _owner, _name, branch) => branch === "main" || branch === "release/1.x",
  showRun: () => {},
};

export interface DashboardServer {
  database: TestDatabase;
  api: ApiServer;
  /** The dashboard's address on the API server. */
  url: string;
}

/**
 * The API over a database of the file's own, with the fake GitHub; the event stream polls
 * often, so what a test writes shows in the page at once.
 */
export function useDashboardServer(options: { signIn?: ApiDeps["signIn"]; apiGitHub?: ApiGitHub } = {}): DashboardServer {
  const server = {} as DashboardServer;
  beforeAll(async () => {
    server.database = await createTestDatabase();
    server.api = await startApiServer(server.database, { apiGitHub: options.apiGitHub ?? fakeGitHub, eventStream: { pollMs: 100 }, ...(options.signIn ? { signIn: options.signIn } : {}) });
    server.url = `${server.api.url}/dashboard`;
  });
  afterAll(async () => {
    await server.api?.close();
    await server.database?.drop();
  });
  return server;
}
