import { JobError } from "../job-error.ts";
import { receiveWork, sendCommits } from "./commit-transfer.ts";
import { git } from "./git-workspace.ts";
import { isTransientGitFailure, lastLines, type GitResult } from "./host-git.ts";
import type { Sandbox } from "./sandbox.ts";
import { fetchBranch, filesChanged, pushCommit, workGit, type GitRemoteAccess, type WorkRepository } from "./work-repository.ts";

export interface PushOptions {
  remote: GitRemoteAccess;
  branch: string;
  /** The commit the agent started from: what its work must descend from. */
  base: string;
  /**
   * The job builds on a branch others push to (a pull request's, a pipeline run's): a
   * rejection because it moved meanwhile is answered once by replaying the agent's commits
   * on top, in the sandbox, so their commits stay and ours follow.
   */
  rebaseIfMoved?: boolean;
  /** Who else pushes to the branch, and what to do about a conflict with them, for the error. */
  sharedWith?: { who: string; nextStep: string };
}

/**
 * The agent's committed work, out of the sandbox and onto the remote branch: taken out as a
 * bundle and checked (`receiveWork`), pushed from the work repository by the worker
 * alone. Returns the commit pushed, and the files the agent's own commits changed.
 */
export async function pushWork(sandbox: Sandbox, repository: WorkRepository, options: PushOptions): Promise<{ sha: string; files: string[] }> {
  const sha = await receiveWork(sandbox, repository, { base: options.base });
  const files = await filesChanged(repository, options.base, sha);
  let pushing = sha;
  let result = await pushCommit(repository, options.remote, { sha, branch: options.branch });
  for (let replays = 0; result.exitCode !== 0; replays++) {
    if (!branchMoved(result)) throw pushRejected(options.branch, result);
    const moved = await fetchBranch(repository, options.remote, options.branch);
    if (moved.sha === null) throw new JobError("push", `fetching ${options.branch} to look at it failed: ${lastLines(moved.result.stderr)}`, { retryable: isTransientGitFailure(moved.result) });
    // An earlier attempt of this job pushed this very work, and its worker died before it could record so.
    if (await holdsTheWork(repository, { branchHead: moved.sha, ours: pushing, base: options.base })) return { sha: moved.sha, files };
    if (!options.rebaseIfMoved || replays === MAX_REPLAYS) throw pushRejected(options.branch, result);
    await rebaseInSandbox(sandbox, repository, { ...options, onto: moved.sha, ours: pushing });
    pushing = await receiveWork(sandbox, repository, { base: moved.sha });
    result = await pushCommit(repository, options.remote, { sha: pushing, branch: options.branch });
  }
  return { sha: pushing, files };
}

/**
 * The branch already holds exactly the work: its head has the same files as our commit and
 * descends from our base. A job taken over after its worker died right after the push
 * rebuilds from its checkpoint and commits the same files anew (new timestamps, a new
 * commit): that is its own push, not someone else's.
 */
async function holdsTheWork(repository: WorkRepository, at: { branchHead: string; ours: string; base: string }): Promise<boolean> {
  const trees = await workGit(repository, ["rev-parse", `${at.branchHead}^{tree}`, `${at.ours}^{tree}`]);
  const [theirs, ours] = trees.stdout.trim().split("\n");
  if (trees.exitCode !== 0 || theirs === undefined || theirs !== ours) return false;
  return (await workGit(repository, ["merge-base", "--is-ancestor", at.base, at.branchHead])).exitCode === 0;
}

/** Replays before giving up on a branch that keeps moving under the push: its other pushers are a run's few parallel steps. */
const MAX_REPLAYS = 3;

/** The branch's new commits sent into the sandbox, and the agent's replayed on top there (no token needed, none present). */
async function rebaseInSandbox(sandbox: Sandbox, repository: WorkRepository, input: PushOptions & { onto: string; ours: string }): Promise<void> {
  const pushed = `refs/remotes/pushed/${input.branch}`;
  await sendCommits(sandbox, repository, { sha: input.onto, ref: pushed, has: [input.ours, input.base] });
  const rebased = await git(sandbox, ["rebase", "--quiet", pushed]);
  if (rebased.exitCode === 0) return;
  const conflicts = await git(sandbox, ["diff", "--name-only", "--diff-filter=U"]);
  await git(sandbox, ["rebase", "--abort"]);
  const files = conflicts.stdout.split("\n").filter((line) => line !== "");
  const who = input.sharedWith?.who ?? "someone";
  throw new JobError("push", `${who} pushed to ${input.branch} while the agent worked, and their changes conflict with the agent's${files.length > 0 ? ` in ${files.join(", ")}` : ""}`, {
    nextStep: input.sharedWith?.nextStep ?? "Resolve it on the branch (or revert the conflicting change), then comment `/agent retry`.",
  });
}

/**
 * The push lost to someone else's: their commits are on the branch and ours do not follow
 * them (non-fast-forward), or they created or moved the ref between our push's look at it
 * and its update (two steps of a run pushing to its new branch at once: "cannot lock ref …
 * reference already exists").
 */
function branchMoved(result: GitResult): boolean {
  return /\[rejected\]|non-fast-forward|fetch first|updates were rejected|cannot lock ref|reference already exists/i.test(result.stderr + result.stdout);
}

function pushRejected(branch: string, result: GitResult): JobError {
  return new JobError("push", `git push to ${branch} was rejected: ${lastLines(result.stderr || result.stdout)}`, { retryable: isTransientGitFailure(result) });
}
