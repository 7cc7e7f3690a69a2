/**
 * Each job's own bare repository on the worker (`DATA_DIR/work/<job>-<random>.git`): the
 * one place a token meets the job's commits. Commits go from it into the sandbox as a
 * bundle, and the agent's come back the same way (`commit-transfer.ts`), are checked, and
 * are pushed from here: with no config but the worker's own, no hooks, no tags, and an
 * explicit `<sha>:refs/heads/<branch>`. It borrows the objects of the repository's mirror
 * (or, for a repository on this machine, the repository's own) through `alternates`, so
 * it starts empty and costs a few files.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { JobError } from "../job-error.ts";
import { isTransientGitFailure, lastLines, runHostGit, type GitResult } from "./host-git.ts";

export interface WorkRepository {
  readonly gitDir: string;
}

/** Where a commit is fetched from, and with what: null for a path on this machine or a public fork. */
export interface GitRemoteAccess {
  url: string;
  token: string | null;
}

/** `objectsOf`: a repository whose objects this one may read (the mirror, or the local repository itself). */
export async function openWorkRepository(input: { dir: string; jobId: string; objectsOf: string | null }): Promise<WorkRepository> {
  await mkdir(input.dir, { recursive: true });
  const gitDir = path.join(input.dir, `${input.jobId.replace(/[^A-Za-z0-9_-]/g, "_")}-${randomBytes(4).toString("hex")}.git`);
  await mustSucceed(await runHostGit(["init", "--quiet", "--bare", gitDir]), "creating the job's work repository");
  const borrowed = input.objectsOf === null ? null : await objectsDirOf(input.objectsOf);
  if (borrowed !== null) await writeFile(path.join(gitDir, "objects", "info", "alternates"), `${borrowed}\n`);
  return { gitDir };
}

export async function closeWorkRepository(repository: WorkRepository): Promise<void> {
  await rm(repository.gitDir, { recursive: true, force: true });
}

/** Git in the work repository (never anywhere else). */
export function workGit(repository: WorkRepository, args: readonly string[], options: { token?: string | null; timeoutMs?: number } = {}): Promise<GitResult> {
  return runHostGit(["--git-dir", repository.gitDir, ...args], options);
}

export async function hasCommit(repository: WorkRepository, sha: string): Promise<boolean> {
  return (await workGit(repository, ["cat-file", "-e", `${sha}^{commit}`])).exitCode === 0;
}

/**
 * `sha` present in the work repository: borrowed from the mirror, or else fetched with
 * `branch`, or by itself (GitHub serves any reachable commit). Throws when it cannot be had.
 */
export async function ensureCommit(repository: WorkRepository, remote: GitRemoteAccess, target: { branch: string; sha: string }): Promise<void> {
  if (await hasCommit(repository, target.sha)) return;
  const byBranch = await fetchBranch(repository, remote, target.branch);
  if (await hasCommit(repository, target.sha)) return;
  const bySha = await workGit(repository, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote.url, target.sha], { token: remote.token, timeoutMs: 10 * 60_000 });
  if (bySha.exitCode === 0 && (await hasCommit(repository, target.sha))) return;
  const failure = byBranch.result.exitCode !== 0 ? byBranch.result : bySha;
  throw new JobError("clone", `fetching ${target.branch} at ${target.sha.slice(0, 12)} failed: ${lastLines(failure.stderr) || "the commit is not on the branch"}`, { retryable: isTransientGitFailure(failure) });
}

/** The remote's `branch` fetched into `refs/running-agent/remote/<branch>`; its sha, or null when the remote has no such branch. */
export async function fetchBranch(repository: WorkRepository, remote: GitRemoteAccess, branch: string): Promise<{ sha: string | null; result: GitResult }> {
  const ref = `refs/running-agent/remote/${branch}`;
  const result = await workGit(repository, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote.url, `+refs/heads/${branch}:${ref}`], { token: remote.token, timeoutMs: 10 * 60_000 });
  if (result.exitCode !== 0) return { sha: null, result };
  const sha = await workGit(repository, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  return { sha: sha.exitCode === 0 ? sha.stdout.trim() : null, result };
}

/**
 * Push exactly `sha` to `branch`, without force: a branch someone else moved is a
 * rejection, never an overwrite. Nothing else goes: no tags, whatever anyone configured.
 */
export function pushCommit(repository: WorkRepository, remote: GitRemoteAccess, target: { sha: string; branch: string }): Promise<GitResult> {
  return workGit(repository, ["push", "--quiet", "--no-verify", "--no-follow-tags", "--porcelain", remote.url, `${target.sha}:refs/heads/${target.branch}`], { token: remote.token, timeoutMs: 5 * 60_000 });
}

/** The files that differ between two commits of the work repository. */
export async function filesChanged(repository: WorkRepository, from: string, to: string): Promise<string[]> {
  const diff = await mustSucceed(await workGit(repository, ["diff", "--name-only", "-z", from, to]), "listing the changed files");
  return diff.stdout.split("\0").filter((file) => file !== "");
}

/** The objects directory of a repository of ours (a bare mirror) or of the user's (a work tree or bare). */
async function objectsDirOf(repository: string): Promise<string | null> {
  if (!existsSync(repository)) return null;
  const common = await runHostGit(["rev-parse", "--path-format=absolute", "--git-common-dir"], { cwd: repository });
  if (common.exitCode !== 0) return null;
  return path.join(common.stdout.trim(), "objects");
}

async function mustSucceed(result: GitResult, what: string): Promise<GitResult> {
  if (result.exitCode !== 0) throw new JobError("internal", `${what} failed: ${lastLines(result.stderr || result.stdout)}`);
  return result;
}
