import { startFakeGitHub, type FakeGitHub, type FakeGitHubOptions } from "../fakes/fake-github.ts";
import type { ModelServer } from "../fakes/model-server.ts";
import { startAppHarness, type AppHarness } from "./app-harness.ts";
import type { GitRemote } from "./git-remote.ts";
import { postWebhook, testRepo } from "./github-fixtures.ts";
import { APP_ID, WEBHOOK_SECRET } from "./probot.ts";
import { scriptedModelEnv } from "./scripted-model.ts";

/**
 * The fake GitHub over HTTP for an in-process app (`startAppHarness` with GHE_HOST): it
 * knows `remote`'s branches and files as GitHub would. `later` fills options that need the
 * fake's own origin (links in issues), read when the app asks.
 */
export async function startFakeGitHubFor(remote: GitRemote, options: FakeGitHubOptions = {}, later?: (origin: string) => Partial<FakeGitHubOptions>): Promise<FakeGitHub> {
  const all: FakeGitHubOptions = { appId: APP_ID, branches: { main: remote.headSha }, branchesFrom: (name) => refOf(remote, name), filesFrom: (ref, path) => fileOf(remote, ref, path), ...options };
  const github = await startFakeGitHub(all);
  if (later) Object.assign(all, later(`http://${github.host}`));
  return github;
}

/** The app, in this process, against `github` and the scripted `model`. */
export function startAppOnFakeGitHub(github: FakeGitHub, model: ModelServer, env: Record<string, string> = {}): Promise<AppHarness> {
  return startAppHarness({ ...scriptedModelEnv(model), GHE_HOST: github.host, GHE_PROTOCOL: "http", ...env });
}

/** Deliver a signed webhook about `remote`'s repository (its clone URL the remote's). */
export async function deliver(harness: AppHarness, remote: GitRemote, event: string, payload: Record<string, unknown>): Promise<void> {
  const repository = { ...(payload.repository as object), clone_url: testRepo({ cloneUrl: remote.url }).cloneUrl };
  const response = await postWebhook(harness.url, { event, secret: WEBHOOK_SECRET, payload: { ...payload, repository } });
  if (response.status !== 200) throw new Error(`the app answered ${event} with HTTP ${response.status}`);
}

function refOf(remote: GitRemote, name: string): string | undefined {
  return remote.git("for-each-ref", "--format=%(objectname)", `refs/heads/${name}`) || undefined;
}

function fileOf(remote: GitRemote, ref: string, path: string): string | undefined {
  const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : refOf(remote, ref);
  if (!sha) return undefined;
  const entry = remote.git("ls-tree", sha, "--", path);
  return entry === "" ? undefined : remote.git("show", `${sha}:${path}`);
}
