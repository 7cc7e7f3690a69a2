/**
 * A job's work repository on the worker, and the commits it trades with a local sandbox
 * as bundles: the checkout, a resumed workspace brought up to date, and the push with its
 * replay onto a branch that moved.
 */
import { statSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cloneRepository, commitAll, syncToCommit } from "../../src/sandbox/git-workspace.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import { createMirrorCache } from "../../src/sandbox/mirror-cache.ts";
import { pushWork } from "../../src/sandbox/push-work.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { closeWorkRepository, ensureCommit, openWorkRepository, type WorkRepository } from "../../src/sandbox/work-repository.ts";
import { createGitRemote, GREET_SOURCE, GREETING_PROJECT, pushCommit, type GitRemote } from "../support/git-remote.ts";

const TOKEN = "ghs_WorkRepositoryTestToken0123456789abcdef";

let root: string;
let remote: GitRemote;
const opened: Array<{ sandbox?: Sandbox; repository?: WorkRepository }> = [];

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "ra-work-"));
  await chmod(root, 0o755);
  remote = await createGitRemote(GREETING_PROJECT);
});
afterEach(async () => {
  for (const { sandbox, repository } of opened.splice(0)) {
    await sandbox?.destroy();
    if (repository) await closeWorkRepository(repository);
  }
  await remote.cleanup();
  await rm(root, { recursive: true, force: true });
});

async function newSandbox(): Promise<Sandbox> {
  const sandbox = await createLocalSandboxProvider({ rootDir: path.join(root, "sandboxes"), dataDir: root }).create({ jobId: "job-1", limits: { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 } });
  opened.push({ sandbox });
  return sandbox;
}

async function newRepository(objectsOf: string | null): Promise<WorkRepository> {
  const repository = await openWorkRepository({ dir: path.join(root, "work"), jobId: "job-1", objectsOf });
  opened.push({ repository });
  return repository;
}

async function gitOut(sandbox: Sandbox, ...args: string[]): Promise<string> {
  const result = await sandbox.exec(["git", ...args]);
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

async function checkout(repository: WorkRepository, sha = remote.headSha): Promise<Sandbox> {
  const sandbox = await newSandbox();
  await ensureCommit(repository, { url: remote.url, token: TOKEN }, { branch: "main", sha });
  await cloneRepository(sandbox, repository, { url: remote.url, branch: "main", sha, workBranch: "agent/7-greet", identity: { email: "bot@example.com" } });
  return sandbox;
}

describe("a checkout from the work repository", () => {
  it("borrows the mirror's objects, and hands the sandbox copies it cannot reach the mirror through", async () => {
    const mirror = (await createMirrorCache({ dir: path.join(root, "mirrors"), log: pino({ level: "silent" }) }).refresh({ repoId: 1, url: remote.url, token: TOKEN }))!;
    const repository = await newRepository(mirror);
    const sandbox = await checkout(repository);

    expect(await gitOut(sandbox, "rev-parse", "HEAD")).toBe(remote.headSha);
    expect(await gitOut(sandbox, "status", "--porcelain")).toBe("");
    expect(await gitOut(sandbox, "remote", "get-url", "origin")).toBe(remote.url);
    expect(await gitOut(sandbox, "rev-parse", "origin/main")).toBe(remote.headSha);
    expect(await gitOut(sandbox, "config", "--get-regexp", "^(http|url|credential)\\.").catch(() => "")).toBe("");
    // On the job's branch, committed to as the bot; nothing of the transfer left in the workspace.
    expect(await gitOut(sandbox, "symbolic-ref", "HEAD")).toBe("refs/heads/agent/7-greet");
    expect(await gitOut(sandbox, "config", "user.email")).toBe("bot@example.com");
    expect(await gitOut(sandbox, "config", "user.name")).toBe("running-agent[bot]");
    expect(await gitOut(sandbox, "status", "--porcelain", "--ignored")).toBe("");
    // The work repository fetched nothing: the mirror had the commit.
    expect(await readdir(path.join(repository.gitDir, "objects", "pack"))).toEqual([]);
    // No object file of the sandbox's is a hard link of the mirror's: the agent could rewrite one in place.
    const files = (await readdir(path.join(sandbox.workdir, ".git", "objects"), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(statSync(path.join(file.parentPath, file.name)).nlink).toBe(1);
  });

  it("fetches, with the token, a commit the mirror does not have yet", async () => {
    const mirror = (await createMirrorCache({ dir: path.join(root, "mirrors"), log: pino({ level: "silent" }) }).refresh({ repoId: 1, url: remote.url, token: TOKEN }))!;
    const pushed = await pushCommit(remote, { branch: "main", files: { "CHANGELOG.md": "# 1.0.1\n" }, message: "Changelog" });
    const sandbox = await checkout(await newRepository(mirror), pushed);

    expect(await gitOut(sandbox, "rev-parse", "HEAD")).toBe(pushed);
    expect(await sandbox.readFile("CHANGELOG.md")).toBe("# 1.0.1\n");
  });

  it("fails as a clone failure, saying what git said, and leaves nothing of the transfer behind", async () => {
    const sandbox = await newSandbox();
    const repository = await newRepository(remote.bareDir);
    await ensureCommit(repository, { url: remote.url, token: TOKEN }, { branch: "main", sha: remote.headSha });

    const failure = cloneRepository(sandbox, repository, { url: remote.url, branch: "main", sha: remote.headSha, workBranch: "agent/bad..name", identity: { email: "bot@example.com" } });

    await expect(failure).rejects.toMatchObject({ kind: "clone", message: expect.stringMatching(/checking out the repository failed: .*not a valid branch name/) });
    expect(await readdir(sandbox.workdir)).toEqual([".git"]);
  });

  it("works without a mirror, and says which commit it could not have", async () => {
    const sandbox = await checkout(await newRepository(null));
    expect(await gitOut(sandbox, "rev-parse", "HEAD")).toBe(remote.headSha);

    const missing = await newRepository(null);
    await expect(ensureCommit(missing, { url: remote.url, token: TOKEN }, { branch: "main", sha: "0123456789abcdef0123456789abcdef01234567" })).rejects.toThrow(/fetching main at 0123456789ab failed/);
  });
});

describe("a resumed workspace", () => {
  it("is sent only the commits pushed since, and checked out clean", async () => {
    const repository = await newRepository(remote.bareDir);
    const sandbox = await checkout(repository);
    await sandbox.writeFile("scratch.txt", "left over");
    const pushed = await pushCommit(remote, { branch: "agent/7-greet", from: "main", files: { "greet.js": GREET_SOURCE }, message: "Human fix" });

    await ensureCommit(repository, { url: remote.url, token: TOKEN }, { branch: "agent/7-greet", sha: pushed });
    await syncToCommit(sandbox, repository, { branch: "agent/7-greet", sha: pushed });

    expect(await gitOut(sandbox, "rev-parse", "HEAD")).toBe(pushed);
    expect(await gitOut(sandbox, "status", "--porcelain")).toBe("");
  });
});

describe("the push", () => {
  it("replays the agent's commit on a branch someone moved meanwhile, keeping their commit", async () => {
    const repository = await newRepository(remote.bareDir);
    const sandbox = await checkout(repository);
    await sandbox.writeFile("greet.js", GREET_SOURCE);
    await commitAll(sandbox, "Add greet()");
    const theirs = await pushCommit(remote, { branch: "agent/7-greet", from: "main", files: { "NOTES.md": "notes\n" }, message: "Notes" });

    const { sha, files } = await pushWork(sandbox, repository, { remote: { url: remote.url, token: TOKEN }, branch: "agent/7-greet", base: remote.headSha, rebaseIfMoved: true });

    expect(files).toEqual(["greet.js"]);
    expect(remote.git("rev-parse", "agent/7-greet")).toBe(sha);
    expect(remote.git("rev-parse", "agent/7-greet^")).toBe(theirs);
    expect(remote.git("show", "agent/7-greet:greet.js")).toBe(GREET_SOURCE.trim());
  });

  it("fails naming the files when the replay conflicts, and never forces", async () => {
    const repository = await newRepository(remote.bareDir);
    const sandbox = await checkout(repository);
    await sandbox.writeFile("greet.js", GREET_SOURCE);
    await commitAll(sandbox, "Add greet()");
    const theirs = await pushCommit(remote, { branch: "agent/7-greet", from: "main", files: { "greet.js": "exports.greet = () => 'hi';\n" }, message: "Theirs" });

    await expect(pushWork(sandbox, repository, { remote: { url: remote.url, token: TOKEN }, branch: "agent/7-greet", base: remote.headSha, rebaseIfMoved: true })).rejects.toThrow(/conflict with the agent's in greet\.js/);
    expect(remote.git("rev-parse", "agent/7-greet")).toBe(theirs);
  });

  it("replays the agent's commit when another pusher creates the same new branch a moment before it", async () => {
    const repository = await newRepository(remote.bareDir);
    const sandbox = await checkout(repository);
    await sandbox.writeFile("greet.js", GREET_SOURCE);
    await commitAll(sandbox, "Add greet()");
    // Two steps of a run create its branch at once: the other's ref lands between our push's look at the refs and its update.
    const theirs = await pushCommit(remote, { branch: "staging", from: "main", files: { "NOTES.md": "notes\n" }, message: "Notes" });
    await createBranchOnFirstPush(remote, "agent/7-greet", theirs);

    const { sha } = await pushWork(sandbox, repository, { remote: { url: remote.url, token: TOKEN }, branch: "agent/7-greet", base: remote.headSha, rebaseIfMoved: true });

    expect(remote.git("rev-parse", "agent/7-greet")).toBe(sha);
    expect(remote.git("rev-parse", "agent/7-greet^")).toBe(theirs);
  });

  it("gives up, rejected, on a branch that keeps moving under its pushes", async () => {
    const repository = await newRepository(remote.bareDir);
    const sandbox = await checkout(repository);
    await sandbox.writeFile("greet.js", GREET_SOURCE);
    await commitAll(sandbox, "Add greet()");
    await pushCommit(remote, { branch: "agent/7-greet", from: "main", files: { "NOTES.md": "notes\n" }, message: "Notes" });
    const hook = path.join(remote.bareDir, "hooks", "pre-receive");
    await writeFile(hook, `#!/bin/sh\necho push >> "${hook}.calls"\necho "cannot lock ref: it moved again" >&2\nexit 1\n`, { mode: 0o755 });

    await expect(pushWork(sandbox, repository, { remote: { url: remote.url, token: TOKEN }, branch: "agent/7-greet", base: remote.headSha, rebaseIfMoved: true })).rejects.toThrow(/git push to agent\/7-greet was rejected: .*moved again/);
    // The first push is refused by git itself (the branch holds a commit it lacks); each of the three replays' pushes reaches the hook.
    expect((await readFile(`${hook}.calls`, "utf8")).trim().split("\n")).toHaveLength(3);
  });

  it("takes the branch as pushed when it holds the same work on the same base: its own push, from an attempt that died before it could say so", async () => {
    const repository = await newRepository(remote.bareDir);
    const first = await checkout(repository);
    await first.writeFile("greet.js", GREET_SOURCE);
    await commitAll(first, "Add greet()");
    const earlier = await pushWork(first, repository, { remote: { url: remote.url, token: TOKEN }, branch: "agent/7-greet", base: remote.headSha });
    // The job taken over rebuilds from its checkpoint: the same files, committed anew (another commit, the same tree).
    const again = await newSandbox();
    await cloneRepository(again, repository, { url: remote.url, branch: "main", sha: remote.headSha, workBranch: "agent/7-greet", identity: { email: "bot@example.com" } });
    await again.writeFile("greet.js", GREET_SOURCE);
    await commitAll(again, "Add greet() (resumed)");

    const pushed = await pushWork(again, repository, { remote: { url: remote.url, token: TOKEN }, branch: "agent/7-greet", base: remote.headSha });

    expect(pushed).toEqual({ sha: earlier.sha, files: ["greet.js"] });
    expect(remote.git("rev-parse", "agent/7-greet")).toBe(earlier.sha);
  });

  it("is rejected, not forced, on a new branch someone else created", async () => {
    const repository = await newRepository(remote.bareDir);
    const sandbox = await checkout(repository);
    await sandbox.writeFile("greet.js", GREET_SOURCE);
    await commitAll(sandbox, "Add greet()");
    const theirs = await pushCommit(remote, { branch: "agent/7-greet", from: "main", files: { "NOTES.md": "notes\n" }, message: "Notes" });

    await expect(pushWork(sandbox, repository, { remote: { url: remote.url, token: TOKEN }, branch: "agent/7-greet", base: remote.headSha })).rejects.toThrow(/git push to agent\/7-greet was rejected/);
    expect(remote.git("rev-parse", "agent/7-greet")).toBe(theirs);
  });
});

/**
 * A pre-receive hook that, on the first push, creates `branch` at `sha` itself: the push then
 * finds the new branch already there, as when a rival pusher won the race by a moment.
 */
async function createBranchOnFirstPush(remote: GitRemote, branch: string, sha: string): Promise<void> {
  const hook = path.join(remote.bareDir, "hooks", "pre-receive");
  const script = [
    "#!/bin/sh",
    `[ -e "${hook}.done" ] && exit 0`,
    `touch "${hook}.done"`,
    `env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES git update-ref refs/heads/${branch} ${sha}`,
  ].join("\n");
  await writeFile(hook, `${script}\n`, { mode: 0o755 });
}
