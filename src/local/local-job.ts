/**
 * A local job's row, from the user's repository: the base commit and the new branch's
 * name are decided here, by asking the repository's git (read-only: nothing of the
 * user's is changed).
 */
import { execFile } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { slugifyTitle } from "../jobs/branch-name.ts";
import type { Database } from "../store/database.ts";
import { jobs, NO_ISSUE, type Job } from "../store/jobs.sql.ts";

const run = promisify(execFile);

/** Bad input from the user (not a repository, an unknown ref): the CLI exits 2 with this message. */
export class LocalRunError extends Error {
  override name = "LocalRunError";
}

export interface LocalRunRequest {
  /** Any path inside the repository. */
  repo: string;
  task: string;
  /** Branch, tag or commit to build on; the current branch when left out. */
  base?: string;
}

/**
 * Whether the request can run (a repository, a base that exists), checked before anything
 * starts: a mistyped path or ref is told at once, not after a database has started.
 */
export async function checkLocalRequest(request: LocalRunRequest): Promise<void> {
  const root = await repositoryRoot(request.repo);
  await baseBranchOf(root, request.base);
  await commitOf(root, request.base ?? "HEAD");
}

/** The job row for a run: the base commit and the new branch's name are decided here, from the user's repository. */
export async function createLocalJob(database: Database, request: LocalRunRequest): Promise<Job> {
  const root = await repositoryRoot(request.repo);
  const baseBranch = await baseBranchOf(root, request.base);
  const baseSha = await commitOf(root, request.base ?? "HEAD");
  const title = request.task.trim().split("\n")[0] ?? "";
  const branch = await freeBranchName(root, `agent/${slugifyTitle(title) || "task"}`);
  const [job] = await database.db
    .insert(jobs)
    .values({
      installationId: 0,
      repoId: 0,
      repoOwner: "local",
      repoName: path.basename(root),
      cloneUrl: root,
      defaultBranch: baseBranch,
      issueNumber: NO_ISSUE,
      issueTitle: title,
      trigger: "local",
      task: request.task,
      requesterLogin: os.userInfo().username,
      requesterId: 0,
      branch,
      baseSha,
      baseBranch,
    })
    .returning();
  return job!;
}

async function repositoryRoot(repo: string): Promise<string> {
  try {
    return (await git(path.resolve(repo), ["rev-parse", "--show-toplevel"])).trim();
  } catch {
    throw new LocalRunError(`${repo} is not inside a git repository`);
  }
}

/**
 * The branch the sandbox clones: `base` when it names one, else the branch checked out.
 * A tag or commit as `base` must be on that branch (the clone takes one branch).
 */
async function baseBranchOf(root: string, base: string | undefined): Promise<string> {
  if (base !== undefined && (await succeeds(root, ["show-ref", "--verify", "--quiet", `refs/heads/${base}`]))) return base;
  try {
    return (await git(root, ["symbolic-ref", "--short", "HEAD"])).trim();
  } catch {
    throw new LocalRunError("HEAD is detached: pass --base <branch>");
  }
}

async function commitOf(root: string, ref: string): Promise<string> {
  try {
    return (await git(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).trim();
  } catch {
    throw new LocalRunError(`${ref} is not a branch, tag or commit of the repository`);
  }
}

/** `agent/<slug>`, or `agent/<slug>-2`, `-3`… when the repository has that branch already: never overwritten. */
async function freeBranchName(root: string, wanted: string): Promise<string> {
  for (let suffix = 1; ; suffix++) {
    const candidate = suffix === 1 ? wanted : `${wanted}-${suffix}`;
    if (!(await succeeds(root, ["show-ref", "--verify", "--quiet", `refs/heads/${candidate}`]))) return candidate;
  }
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run("git", args, { cwd, encoding: "utf8" });
  return stdout;
}

async function succeeds(cwd: string, args: string[]): Promise<boolean> {
  return git(cwd, args).then(
    () => true,
    () => false,
  );
}
