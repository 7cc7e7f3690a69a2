import { JobError } from "../job-error.ts";
import { bundleOf, BUNDLE_HEAD, sendCommits } from "./commit-transfer.ts";
import { lastLines } from "./host-git.ts";
import type { ExecResult, Sandbox } from "./sandbox.ts";
import type { WorkRepository } from "./work-repository.ts";

/**
 * Git in the sandbox's checkout, run by the worker: never with a token, and never trusted
 * for what it says about what was pushed. Commits come in from the job's work repository
 * as bundles (`commit-transfer.ts`); the agent's go out the same way, and the push is the
 * worker's own (`push-work.ts`).
 */

const BOT_NAME = "running-agent[bot]";

/**
 * A checkout of `sha` from the work repository (which has it: `ensureCommit`), on a new
 * branch `workBranch` committed to as `identity`, with `origin` pointing at the real remote
 * for the agent's orientation (it has no credentials for it) and `origin/<branch>` at the
 * base. One script in the sandbox after the bundle is written: each command there is a
 * process under bubblewrap (or a call to E2B), and the checkout is on every job's way to
 * its first model request.
 */
export async function cloneRepository(
  sandbox: Sandbox,
  repository: WorkRepository,
  options: { url: string; branch: string; sha: string; workBranch: string; identity: { name?: string; email: string } },
): Promise<void> {
  await sandbox.writeFile(CLONE_BUNDLE, await bundleOf(repository, options.sha));
  const args = [CLONE_BUNDLE, BUNDLE_HEAD, `refs/remotes/origin/${options.branch}`, options.url, options.identity.name ?? BOT_NAME, options.identity.email, options.workBranch, options.sha];
  const result = await sandbox.exec(["/bin/sh", "-c", CLONE_SCRIPT, "clone", ...args], { timeoutMs: 10 * 60_000 });
  if (result.exitCode !== 0) throw new JobError("clone", `checking out the repository failed: ${lastLines(result.stderr || result.stdout)}`);
}

/** Outside `.git`, which does not exist yet; removed by the script, whatever happens. */
const CLONE_BUNDLE = ".running-agent-clone.bundle";

// $1 bundle, $2 its head, $3 the base's ref, $4 origin's URL, $5 $6 the committer, $7 the work branch, $8 the base commit.
const CLONE_SCRIPT = `set -e
trap 'rm -f "$1"' EXIT
git() { command git -c core.hooksPath=/dev/null -c core.fsmonitor=false "$@"; }
git init --quiet
git fetch --quiet --no-tags --no-write-fetch-head "$1" "+$2:$3"
git remote add origin "$4"
git config user.name "$5"
git config user.email "$6"
git checkout --quiet -B "$7" "$8"`;

/**
 * A warm agent's checkout of the repository, made before its job from what this host had
 * then, brought to what `cloneRepository` would have made for the job: the commits it lacks
 * sent, `origin` at the job's URL, the job's branch at `sha`, and nothing of the spare's
 * own (its branch, its remote-tracking refs) left. `has`: the commit the spare checked out.
 */
export async function adoptCheckout(sandbox: Sandbox, repository: WorkRepository, options: { url: string; branch: string; sha: string; workBranch: string; has: string }): Promise<void> {
  const baseRef = `refs/remotes/origin/${options.branch}`;
  await sendCommits(sandbox, repository, { sha: options.sha, ref: baseRef, has: [options.has] });
  const result = await sandbox.exec(["/bin/sh", "-c", ADOPT_SCRIPT, "adopt", options.url, options.workBranch, options.sha, baseRef], { timeoutMs: 10 * 60_000 });
  if (result.exitCode !== 0) throw new JobError("clone", `checking out the repository failed: ${lastLines(result.stderr || result.stdout)}`);
}

// $1 origin's URL, $2 the work branch, $3 the base commit, $4 the base's ref.
const ADOPT_SCRIPT = `set -e
git() { command git -c core.hooksPath=/dev/null -c core.fsmonitor=false "$@"; }
git remote set-url origin "$1"
git checkout --quiet --force -B "$2" "$3"
git clean --quiet -d -x --force
git for-each-ref --format='%(refname)' refs/heads refs/remotes | while read -r ref; do
  [ "$ref" = "refs/heads/$2" ] || [ "$ref" = "$4" ] || git update-ref -d "$ref"
done`;

/**
 * A resumed workspace (a parked sandbox) brought to `sha` on `branch`, as a fresh clone
 * would be: sent the commits it lacks (someone pushed since), checked out, and cleaned of
 * anything untracked but what is ignored (the dependencies installed before).
 */
export async function syncToCommit(sandbox: Sandbox, repository: WorkRepository, options: { branch: string; sha: string }): Promise<void> {
  const present = await git(sandbox, ["cat-file", "-e", `${options.sha}^{commit}`]);
  if (present.exitCode !== 0) {
    const head = await git(sandbox, ["rev-parse", "--verify", "--quiet", "HEAD"]);
    await sendCommits(sandbox, repository, { sha: options.sha, ref: `refs/remotes/origin/${options.branch}`, has: head.exitCode === 0 ? [head.stdout.trim()] : [] });
  }
  await mustSucceed(sandbox, ["checkout", "--quiet", "--force", "-B", options.branch, options.sha], "clone", "checking out the pull request's head");
  await mustSucceed(sandbox, ["clean", "--quiet", "-d", "--force"], "clone", "cleaning the resumed workspace");
}

/**
 * Keep what a dependency install wrote out of the agent's commit: files it created (a
 * `node_modules` in a repository without .gitignore, a new lockfile) are excluded
 * locally, and tracked files it rewrote (an updated lockfile) are restored. The price:
 * the agent cannot commit a file of those exact paths (say, the lockfile it was asked to add).
 */
export async function excludeInstallArtifacts(sandbox: Sandbox): Promise<string[]> {
  const status = await mustSucceed(sandbox, ["status", "--porcelain=v1", "-z", "--untracked-files=normal"], "setup", "reading the workspace status");
  const entries = status.stdout.split("\0").filter((entry) => entry.length > 3);
  const created = entries.filter((entry) => entry.startsWith("??")).map((entry) => entry.slice(3));
  const modified = entries.filter((entry) => !entry.startsWith("??")).map((entry) => entry.slice(3));
  if (created.length > 0) await excludeFromCommits(sandbox, created, "written by the dependency install");
  if (modified.length > 0) await mustSucceed(sandbox, ["checkout", "--", ...modified], "setup", "restoring files the install changed");
  return [...created, ...modified];
}

/** Paths (relative to the checkout) the agent's commit leaves out, whatever it does: listed in `.git/info/exclude`. */
export async function excludeFromCommits(sandbox: Sandbox, paths: readonly string[], why: string): Promise<void> {
  const exclude = `${sandbox.workdir}/.git/info/exclude`;
  const existing = await sandbox.readFile(exclude).catch(() => "");
  const patterns = paths.map((file) => `/${file.replace(/([*?[\\!#])/g, "\\$1")}`);
  await sandbox.writeFile(exclude, `${existing.trimEnd()}\n# ${why}\n${patterns.join("\n")}\n`);
}

export async function hasChanges(sandbox: Sandbox, baseSha: string): Promise<boolean> {
  const status = await mustSucceed(sandbox, ["status", "--porcelain"], "agent", "reading the workspace status");
  if (status.stdout.trim() !== "") return true;
  const ahead = await mustSucceed(sandbox, ["rev-list", "--count", `${baseSha}..HEAD`], "agent", "counting commits");
  return Number(ahead.stdout.trim()) > 0;
}

export async function commitAll(sandbox: Sandbox, message: string): Promise<string> {
  await mustSucceed(sandbox, ["add", "--all"], "agent", "staging the changes");
  const staged = await git(sandbox, ["diff", "--cached", "--quiet"]);
  if (staged.exitCode !== 0) {
    await mustSucceed(sandbox, ["commit", "--quiet", "--no-verify", "--file", "-"], "agent", "committing", message);
  }
  const head = await mustSucceed(sandbox, ["rev-parse", "HEAD"], "agent", "reading HEAD");
  return head.stdout.trim();
}

/**
 * Everything the agent changed since `baseSha`, as a binary patch (stages the work).
 * Written to a file, not read from stdout, whose capture is bounded.
 */
export async function diffAgainst(sandbox: Sandbox, baseSha: string): Promise<string> {
  await mustSucceed(sandbox, ["add", "--all"], "agent", "staging the changes");
  const file = `${sandbox.workdir}/.git/agent-work.patch`;
  await mustSucceed(sandbox, ["diff", "--cached", "--binary", `--output=${file}`, baseSha], "agent", "diffing the work");
  return sandbox.readFile(file);
}

/** Re-apply work saved by `diffAgainst` on a fresh checkout of the same base commit. */
export async function applyPatch(sandbox: Sandbox, patch: string): Promise<void> {
  if (patch.trim() === "") return;
  await mustSucceed(sandbox, ["apply", "--binary", "--index", "--whitespace=nowarn", "-"], "setup", "re-applying the saved work", patch);
}

async function mustSucceed(sandbox: Sandbox, args: string[], kind: "clone" | "setup" | "agent", what: string, stdin?: string): Promise<ExecResult> {
  const result = await git(sandbox, args, stdin === undefined ? {} : { stdin });
  if (result.exitCode !== 0) throw new JobError(kind, `${what} failed: git ${args[0]}: ${lastLines(result.stderr || result.stdout)}`);
  return result;
}

/** Exported for the push's rebase (`push-work.ts`). Hooks and fsmonitor off: the worker's own commands run no workspace code. */
export function git(sandbox: Sandbox, args: string[], options: { timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
  return sandbox.exec(["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", ...args], options);
}
