import { afterEach, beforeEach } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../fakes/fake-github.ts";
import { startModelServer, type ModelServer, type Script } from "../fakes/model-server.ts";
import { startAppProcess, type AppProcess, type Role } from "./app-process.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { branchHeadIn, createGitRemote, GREETING_PROJECT, type GitRemote } from "./git-remote.ts";
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

export interface OwnedProcessEnvironment extends ProcessEnvironment {
  /** The processes started so far, in order. */
  apps: AppProcess[];
  /** Kill every process started, close the fakes, drop the database, remove the remote. */
  dispose(): Promise<void>;
}

/**
 * The hooks of a process-level test file: per test, a fresh remote, fake GitHub, scripted
 * model (from `script()`, called anew each test) and database; every process started is
 * disposed of afterwards. Not for `describe.concurrent`: the tests would share one state;
 * start one `startProcessEnvironment` per test there.
 */
export function useProcessEnvironment(script: () => Script, env: Record<string, string> = {}): ProcessEnvironment {
  const state = {} as ProcessEnvironment;
  let current: OwnedProcessEnvironment | undefined;
  beforeEach(async () => {
    current = await startProcessEnvironment(script(), env);
    Object.assign(state, { remote: current.remote, github: current.github, model: current.model, database: current.database });
  });
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
  state.start = (role) => {
    if (!current) throw new Error("start() is for tests: the environment exists from beforeEach to afterEach");
    return current.start(role);
  };
  return state;
}

/**
 * One test's remote (seeded with `files`), fake GitHub, scripted model and database, owned by the caller (who
 * calls `dispose`, e.g. from the test context's `onTestFinished`). The fake GitHub answers
 * `git.getRef` from the bare remote, so branches the app pushed exist for it as on GitHub.
 */
export async function startProcessEnvironment(script: Script, env: Record<string, string> = {}, files: Record<string, string> = GREETING_PROJECT): Promise<OwnedProcessEnvironment> {
  const remote = await createGitRemote(files);
  const github = await startFakeGitHub({ appId: APP_ID, branchesFrom: (name) => branchHeadIn(remote, name), filesFrom: (ref, file) => fileIn(remote, ref, file) });
  const model = await startModelServer(script);
  const database = await createTestDatabase();
  const apps: AppProcess[] = [];
  return {
    remote,
    github,
    model,
    database,
    apps,
    async start(role) {
      const app = await startAppProcess({ role, env: { GHE_HOST: github.host, DATABASE_URL: database.url, ...scriptedModelEnv(model), ...env } });
      apps.push(app);
      return app;
    },
    async dispose() {
      await Promise.all(apps.splice(0).map((app) => app.dispose()));
      await model.close();
      await github.close();
      await database.drop();
      await remote.cleanup();
    },
  };
}

/** A file's text at `ref` in the bare remote, or undefined when there is none. */
function fileIn(remote: GitRemote, ref: string, file: string): string | undefined {
  try {
    return remote.git("show", `${ref}:${file}`);
  } catch {
    return undefined;
  }
}
