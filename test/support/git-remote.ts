import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface GitRemote {
  /** `file://` URL of the bare repository: what the webhook payload's clone_url says. */
  url: string;
  bareDir: string;
  headSha: string;
  /** Run git against the bare repository. */
  git(...args: string[]): string;
  cleanup(): Promise<void>;
}

/** A bare repository standing in for GitHub's, seeded with `files` on `branch`. */
export async function createGitRemote(files: Record<string, string>, branch = "main"): Promise<GitRemote> {
  const root = await mkdtemp(path.join(os.tmpdir(), "ra-remote-"));
  await chmod(root, 0o755);
  const work = path.join(root, "seed");
  const bareDir = path.join(root, "remote.git");
  await mkdir(work);
  const run = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }).trim();
  run(work, "init", "--quiet", "--initial-branch", branch);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(work, file)), { recursive: true });
    await writeFile(path.join(work, file), content);
  }
  run(work, "add", "--all");
  run(work, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "--quiet", "-m", "Initial commit");
  run(root, "clone", "--quiet", "--bare", work, bareDir);
  return {
    url: `file://${bareDir}`,
    bareDir,
    headSha: run(bareDir, "rev-parse", branch),
    git: (...args) => run(bareDir, ...args),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** A small Node project whose `npm test` passes once `greet.js` exports `greet`. */
export const GREETING_PROJECT: Record<string, string> = {
  "package.json": JSON.stringify({ name: "hello", version: "1.0.0", private: true, scripts: { test: "node --test" } }, null, 2) + "\n",
  "package-lock.json": JSON.stringify({ name: "hello", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "hello", version: "1.0.0" } } }, null, 2) + "\n",
  "README.md": "# hello\n",
  "greet.test.js": [
    'const test = require("node:test");',
    'const assert = require("node:assert");',
    'test("greet", () => {',
    '  const { greet } = require("./greet.js");',
    '  assert.strictEqual(greet("Ada"), "Hello, Ada!");',
    "});",
    "",
  ].join("\n"),
};

export const GREET_SOURCE = 'exports.greet = (name) => `Hello, ${name}!`;\n';

/**
 * Commit `files` on `branch` of the remote (created from `from`, default the branch itself
 * or main), as someone other than the agent, and push it. Returns the new commit's sha.
 */
export async function pushCommit(remote: GitRemote, options: { branch: string; from?: string; files: Record<string, string>; message: string; author?: string }): Promise<string> {
  const work = await mkdtemp(path.join(os.tmpdir(), "ra-push-"));
  const run = (...args: string[]) => execFileSync("git", args, { cwd: work, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }).trim();
  try {
    run("clone", "--quiet", remote.bareDir, ".");
    const exists = run("ls-remote", "--heads", "origin", options.branch) !== "";
    run("checkout", "--quiet", "-B", options.branch, exists ? `origin/${options.branch}` : `origin/${options.from ?? "main"}`);
    for (const [file, content] of Object.entries(options.files)) {
      await mkdir(path.dirname(path.join(work, file)), { recursive: true });
      await writeFile(path.join(work, file), content);
    }
    run("add", "--all");
    const author = options.author ?? "Human";
    run("-c", `user.name=${author}`, "-c", `user.email=${author.toLowerCase()}@example.com`, "commit", "--quiet", "-m", options.message);
    run("push", "--quiet", "origin", `HEAD:refs/heads/${options.branch}`);
    return run("rev-parse", "HEAD");
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The branch's head commit in the bare remote, or undefined when it has no such branch. */
export function branchHeadIn(remote: GitRemote, name: string): string | undefined {
  try {
    return remote.git("rev-parse", "--verify", "--quiet", `refs/heads/${name}^{commit}`);
  } catch {
    return undefined; // git exits 1: no such branch.
  }
}
