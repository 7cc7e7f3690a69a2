import { afterEach, beforeEach } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../fakes/fake-github.ts";
import { startModelServer, type ModelServer, type Script } from "../fakes/model-server.ts";
import { startAppProcess, type AppProcess, type Role } from "./app-process.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { createGitRemote, GREETING_PROJECT, type GitRemote } from "./git-remote.ts";
import { APP_ID } from "./probot.ts";
import { scriptedModelEnv } from "./scripted-model.ts";

export interface ProcessEnvironment {
  remote: GitRemote;
  github: FakeGitHub;
  model: ModelServer;
  database: TestDatabase;
  /** Start `node src/main.ts` in `role`, pointed at this test's GitHub, database and model. */
  start(role: Role): Promise<AppProcess>;
}

/**
 * The hooks of a process-level test file: per test, a fresh remote, fake GitHub, scripted
 * model (from `script()`, called anew each test) and database; every process started is
 * disposed of afterwards.
 */
export function useProcessEnvironment(script: () => Script, env: Record<string, string> = {}): ProcessEnvironment {
  const state = {} as ProcessEnvironment;
  let apps: AppProcess[] = [];
  beforeEach(async () => {
    state.remote = await createGitRemote(GREETING_PROJECT);
    state.github = await startFakeGitHub({ appId: APP_ID, branches: { main: state.remote.headSha } });
    state.model = await startModelServer(script());
    state.database = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.dispose()));
    apps = [];
    await state.model.close();
    await state.github.close();
    await state.database.drop();
    await state.remote.cleanup();
  });
  state.start = async (role) => {
    const app = await startAppProcess({ role, env: { GHE_HOST: state.github.host, DATABASE_URL: state.database.url, ...scriptedModelEnv(state.model), ...env } });
    apps.push(app);
    return app;
  };
  return state;
}
